'use strict';
// Message generator: WS-Security messages made by the npm `soap` package (version pinned in
// package.json), driven without a WSDL the way its client does before sending:
//   WSSecurityCert#postProcess(envelopeXml, 'soap')  -> BST + Timestamp + XML signature
//   WSSecurity#toXML()                               -> a <wsse:Security> header with a
//                                                        UsernameToken, put into the Header here
// Its timestamps come from the real clock; the tests derive --now from each message's Created.
//
// usage: node gen_soap.js PKI_DIR OUT_DIR   (prints {"name": "path", ...} as JSON)
const fs = require('fs');
const path = require('path');
const { WSSecurityCert, WSSecurity } = require('soap');

const [pki, out] = process.argv.slice(2);
if (!pki || !out) {
  console.error('usage: node gen_soap.js PKI_DIR OUT_DIR');
  process.exit(2);
}

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

const envelope =
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
  'xmlns:wsa="http://www.w3.org/2005/08/addressing">' +
  '<soap:Header>' +
  '<wsa:Action>urn:example:orders/Create</wsa:Action>' +
  '<wsa:To>https://orders.example.com/soap</wsa:To>' +
  '<wsa:MessageID>urn:uuid:7d444840-9dc0-11d1-b245-5ffdce74fad2</wsa:MessageID>' +
  '</soap:Header>' +
  '<soap:Body>' +
  '<ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>250</ord:amount></ord:CreateOrder>' +
  '</soap:Body>' +
  '</soap:Envelope>';

function read(name) {
  return fs.readFileSync(path.join(pki, name));
}

function signed(who, options) {
  const ws = new WSSecurityCert(read(who + '.key'), read(who + '.pem'), '', options);
  return ws.postProcess(envelope, 'soap');
}

function username(user, password, options) {
  const header = new WSSecurity(user, password, options).toXML();
  const at = envelope.indexOf('</soap:Header>');
  return envelope.slice(0, at) + header + envelope.slice(at);
}

const messages = {
  // what the brief's client configuration emits: rsa-sha256 / sha256, Timestamp
  'soap-cert-rsa': signed('alice', {
    hasTimeStamp: true, signatureAlgorithm: RSA_SHA256, digestAlgorithm: SHA256,
  }),
  // library defaults (the Body reference then carries enveloped-signature + exc-c14n)
  'soap-cert-defaults': signed('alice', { hasTimeStamp: true }),
  // WS-Addressing headers signed as well
  'soap-cert-wsa': signed('alice', {
    hasTimeStamp: true, signatureAlgorithm: RSA_SHA256, digestAlgorithm: SHA256,
    additionalReferences: ['wsa:Action', 'wsa:To', 'wsa:MessageID'],
  }),
  'soap-ut-digest': username('alice', 'secret', {
    passwordType: 'PasswordDigest', hasNonce: true, hasTimeStamp: true,
  }),
  // PasswordText with a Nonce (hasNonce) and Created (hasTokenCreated, on by default), as
  // username.require_nonce wants
  'soap-ut-text': username('alice', 'secret', {
    passwordType: 'PasswordText', hasNonce: true, hasTimeStamp: true, mustUnderstand: true,
  }),
  // a Security header for the SOAP 1.1 "next" actor that must be understood
  'soap-ut-next-actor': username('alice', 'secret', {
    passwordType: 'PasswordDigest', hasNonce: true, hasTimeStamp: true, mustUnderstand: true,
    actor: 'http://schemas.xmlsoap.org/soap/actor/next',
  }),
  // the library's PasswordText default: no Nonce, so a copy is as good as the original
  'soap-ut-text-no-nonce': username('alice', 'secret', {
    passwordType: 'PasswordText', hasTimeStamp: true, mustUnderstand: true,
  }),
};

fs.mkdirSync(out, { recursive: true });
const paths = {};
for (const [name, xml] of Object.entries(messages)) {
  const file = path.join(out, name + '.xml');
  fs.writeFileSync(file, xml);
  paths[name] = file;
}
process.stdout.write(JSON.stringify(paths) + '\n');
