// The configuration layer's public face.
export { parseArgv, usageText, INVALID_COMMAND_LINE, INVALID_COMMAND_LINE_STATUS, type ArgvCommand } from './argv.js';
export { buildConfig, type SettingEntry } from './build.js';
export { cidrListContains, clientKeyFor, isLoopbackAddress, normalizePeerAddress, parseCidr, type CidrBlock } from './cidr.js';
export { tlsFilesFor, type ApiKeyEntry, type CallMode, type Config, type HoldOffer, type LogLevel, type ReferUserEntry, type SipCredentialEntry, type TransferPolicy } from './config.js';
export { exposureNotices, isLegacyHttpOpen, isTriggerReachableBeyondLoopback, isXmlOpen, listenAddressesFor } from './exposure.js';
export { DEFAULT_CONFIG_FILE, loadConfig, mergeEntries, parseConfigText, tokenizeConfigText, type LoadOptions, type LoadResult, type ParseResult } from './parse-file.js';
export type { ConfigProblem } from './problems.js';
export { defaultConfig, findSetting, SETTINGS, type SettingDef, type SettingType } from './settings.js';
export { validateConfig } from './validate.js';
