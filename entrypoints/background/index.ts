import { defineBackground } from 'wxt/utils/define-background';
import { startBackgroundVault } from '../../lib/ext/vault/background-vault';
import { startOpenClawBackground } from '../../lib/ext/openclaw/openclaw-background';

export default defineBackground(() => {
  const { keyholder, announce } = startBackgroundVault();
  startOpenClawBackground(keyholder, announce);
});
