/**
 * Calls `onIdle` once `seconds` pass without `touch()`. Used where the key lives in a page (web vault); the
 * extension background uses browser alarms instead because its service worker may be stopped.
 */
export class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seconds: number | null = null;

  constructor(private readonly onIdle: () => void) {}

  configure(seconds: number | null): void {
    this.seconds = seconds;
    this.touch();
  }

  touch(): void {
    this.stop();
    if (this.seconds !== null) this.timer = setTimeout(this.onIdle, this.seconds * 1000);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
