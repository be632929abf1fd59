/** CVM simulator (test only): a stand-in for Phala Cloud + dstack CVMs. See sim/README.md. */
export { startCvmSimulator, type CvmSimulator, type CvmSimulatorOptions } from './simulator';
export { MISBEHAVIOURS, parseMisbehaveMode, type Misbehaviour, type MisbehaveMode } from './misbehave';
export type { ReceivedRequest } from './state';
export { appComposeText, composeHashOf, type ComposeFileInput } from './app-compose';
