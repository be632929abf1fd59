import { defineBackground } from 'wxt/utils/define-background';
import { startBackgroundVault } from '../../lib/ext/background-vault';

export default defineBackground(() => {
  startBackgroundVault();
});
