import { defineBackground } from 'wxt/utils/define-background';
import { isTrustedSender, startBackgroundVault } from '../../lib/ext/background-vault';
import { startOpenClawBackground } from '../../lib/ext/openclaw-background';

export default defineBackground(() => {
  const { keyholder, announce } = startBackgroundVault();
  startOpenClawBackground(keyholder, isTrustedSender, announce);
});
