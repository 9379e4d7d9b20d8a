// gen_xmlenc.js — npm xml-encryption (auth0) encrypting for the interop tests: prints one
// xenc:EncryptedData (its EncryptedKey inside, RSA-OAEP to the certificate given) on stdout.
// usage: node gen_xmlenc.js CERT_PEM PLAINTEXT_FILE DATA_ALGORITHM_URI [OAEP_DIGEST]
'use strict';
const fs = require('fs');
const xmlenc = require('xml-encryption');

const [cert, plaintext, algorithm, digest] = process.argv.slice(2);
const pem = fs.readFileSync(cert);
xmlenc.encrypt(fs.readFileSync(plaintext, 'utf8'), {
  rsa_pub: pem,
  pem: pem,
  encryptionAlgorithm: algorithm,
  keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  keyEncryptionDigest: digest || 'sha1',
  disallowEncryptionWithInsecureAlgorithm: false,
  warnInsecureAlgorithm: false,
}, (err, result) => {
  if (err) {
    console.error(err.message || err);
    process.exit(1);
  }
  process.stdout.write(result);
});
