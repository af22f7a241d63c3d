// @baton/x509: X.509-SVIDs and mutual TLS for Baton. A small DER encoder/decoder, the
// identity CA's certificate builders, strict SVID verification, and grpc-js credentials
// that authenticate peers by SPIFFE id (never by hostname).

// certificates
export { buildCertificate, ed25519AlgorithmIdentifier, encodeName } from './certificate-builder.js';
export type { CertificateExtension, CertificateTemplate, NameAttribute } from './certificate-builder.js';
export { MAX_CERTIFICATE_BYTES, parseCertificate } from './certificate-parser.js';
export type { ParsedCertificate } from './certificate-parser.js';
export { authorityKeyIdentifier, basicConstraints, extKeyUsage, keyIdentifier, keyUsage, subjectAltName, subjectKeyIdentifier } from './extensions.js';
export type { AltNames } from './extensions.js';
export { createCaCertificate, issueSvid, randomSerial } from './issue.js';
export type { CaCertificateOptions, CaKey, SvidOptions } from './issue.js';
export { KeyUsageBit, Oid } from './oids.js';
export { derToPem, pemToDers } from './pem.js';

// verification
export { MAX_BUNDLE_AUTHORITIES, TrustBundle } from './trust-bundle.js';
export type { TrustAnchor } from './trust-bundle.js';
export { verifySvid } from './verify-svid.js';
export type { SvidRole, VerifiedSvid, VerifySvidOptions } from './verify-svid.js';

// mTLS for grpc-js
export { createSvidSource, svidOf } from './svid-source.js';
export type { MutableSvidSource, Svid, SvidSource } from './svid-source.js';
export { SvidChannelCredentials, svidChannelCredentials } from './channel-credentials.js';
export type { HandshakeFailure, SvidChannelOptions } from './channel-credentials.js';
export { withHandshakeErrors } from './handshake-errors.js';
export { SvidServerCredentials, mtlsServerCredentials, svidServerCredentials } from './server-credentials.js';
export type { MtlsServerOptions, SvidServerOptions } from './server-credentials.js';
export { createPeerVerifier } from './peer-verifier.js';
export type { PeerVerifier, PeerVerifierOptions, VerifiedPeer } from './peer-verifier.js';
export { peerOf, requireMtls } from './require-mtls.js';
export { emitHandshake, handshakeRecord } from './handshake-audit.js';
export type { HandshakeFacts, HandshakeMode } from './handshake-audit.js';
