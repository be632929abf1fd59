/** Saves bytes as a file through a temporary object URL (works in extension pages and on the web). */
export function downloadBytes(bytes: Uint8Array, fileName: string): void {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in Firefox; a minute is plenty for the browser to take it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
