// The built-in ICAP DLP and AV service (RFC 3507): services `dlp` and `av`, detectors for card
// numbers, IBANs, SSNs, keys and tokens, custom rules, EICAR and file types, over bodies decoded
// from gzip/deflate/br, multipart, form and JSON. startIcapServer() runs it in a worker thread;
// listenIcapServer() runs it in the calling thread (CLI, tests). The process owner wires SIGHUP to
// reload() (reloadOnSighup()); onIstagChange() tells the in-process proxy to fetch OPTIONS again.
export { startIcapServer } from './start.js';
export { listenIcapServer, reloadChannel, reloadOnSighup, type IcapServerHandle, type IstagListener, type ListenOptions } from './server.js';
export { transactionChannel } from './icap-connection.js';
export type { IcapServerConfig } from './detectors/detector-set.js';
