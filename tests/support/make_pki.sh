#!/bin/sh
# make_pki.sh DIR — the test PKI, made fresh with the openssl command so that no private key
# is committed. Validity windows are fixed dates, so tests can pin the clock (--now).
#
#   ca.pem            CN=Test Root CA,O=Example            trust anchor (RSA-2048)
#   intermediate.pem  CN=Test Issuing CA,O=Example         signed by the root
#   alice.pem/.key    CN=alice,OU=Payments,O=Example       root-signed, RSA-2048, SANs
#   bob.pem/.key      CN=bob,OU=Ops,O=Example              signed by the intermediate
#   ecuser.pem/.key   CN=ecuser,OU=Payments,O=Example      root-signed, EC P-256
#   expired.pem/.key  CN=old,O=Example                     root-signed, 2020-2021
#   small.pem/.key    CN=small,O=Example                   root-signed, RSA-1024
#   rogue-ca.pem, mallory.pem/.key                         a CA nobody trusts, and its leaf
#   known.pem         alice + bob + ecuser + intermediate  (the "certs" list)
#   tls-server.pem/.key CN=orders.example.com,O=Example    root-signed, keyUsage keyEncipherment
#                                                          only, EKU serverAuth: may not sign
#   tls-server-next.pem/.key  CN=orders.example.com,O=Example  issued like tls-server.pem, another
#                                                          key: the certificate a rotation brings
#   client.pem/.key   CN=client,OU=Payments,O=Example      root-signed, EKU clientAuth
#   mailer.pem/.key   CN=mailer,O=Example                  root-signed, EKU emailProtection only
#   revoked.pem/.key  CN=revoked,O=Example                 root-signed, revoked in the root's CRLs
#                                                          (no EKU: also fits a TLS client)
#   pinned.pem/.key   CN=pinned,O=Partner                  self-signed end entity (CA:FALSE), to be
#                                                          trusted directly
#   idp.pem/.key      CN=Test IdP,O=Example IdP            self-signed end entity: a SAML issuer
#                                                          (saml.issuers), trusted directly
#   idp-ca.pem        CN=IdP CA,O=Example IdP              a CA for SAML issuers, and its leaf
#   idp-issued.pem/.key CN=Issued IdP,O=Example IdP        (saml.issuers = { "idp-ca.pem" })
#   server-enc.pem/.key CN=orders-enc.example.com,O=Example  the service's encryption key pair
#                                                          (decrypt.key / decrypt.cert): root-signed,
#                                                          RSA-2048, keyUsage keyEncipherment, SKI
#   other-enc.pem/.key  CN=other-enc.example.com,O=Example   another recipient's, issued alike
#   alice.p12         alice's key and certificate as PKCS#12 (password "secret", alias "client")
#                     for the WSS4J interop program
# CRLs (PEM unless named .der), all 2025-01-01 to 2035-01-01 unless said otherwise:
#   crl-root-empty.pem            the root's CRL before any revocation
#   crl-root.pem / crl-root.der   the root's CRL: revoked.pem revoked
#   crl-intermediate.pem          the issuing CA's CRL: nothing revoked
#   crl-root-expired.pem          the root's CRL as crl-root.pem, but nextUpdate 2026-01-01
#   crl-root-revokes-intermediate.pem  the root's CRL: revoked.pem and the issuing CA revoked
#   crl-root-forged.pem           names the root as issuer, signed by another key
# Validity of the current ones: 2025-01-01 to 2035-01-01.
set -eu
dir=${1:?usage: make_pki.sh DIR}
# The marker names the version of this script, so that an older PKI is made again.
if [ -f "$dir/.complete-5" ]; then exit 0; fi
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"

start=20250101000000Z
end=20350101000000Z

cat > openssl.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir           = .
database      = $dir/index.txt
new_certs_dir = $dir/issued
serial        = $dir/serial
default_md    = sha256
policy        = any
unique_subject = no
copy_extensions = copy
[ any ]
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ alice_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:alice.example.com,DNS:payments.example.com,email:alice@example.com,URI:urn:example:alice,IP:192.0.2.10
[ tls_server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ enc_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment,dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ mailer_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# sign NAME SUBJECT ISSUER EXT START END SERIAL
sign() {
    name=$1 subject=$2 issuer=$3 ext=$4 from=$5 to=$6 serial=$7
    mkdir -p "ca-$issuer/issued"; touch "ca-$issuer/index.txt"
    echo "$serial" > "ca-$issuer/serial"
    openssl req -new -config openssl.cnf -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
    (cd "ca-$issuer" && openssl ca -batch -config ../openssl.cnf -name test_ca \
        -cert "../$issuer.pem" -keyfile "../$issuer.key" -extensions "$ext" -extfile ../openssl.cnf \
        -startdate "$from" -enddate "$to" -notext -in "../$name.csr" -out "../$name.pem" 2>/dev/null)
    rm -f "$name.csr"
}
rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "$1.key" 2>/dev/null; }

# self-signed roots, with fixed dates as well (openssl ca -selfsign)
for root in ca rogue-ca; do
    rsa "$root"
    case $root in ca) subj="/CN=Test Root CA/O=Example";; *) subj="/CN=Rogue CA/O=Rogue";; esac
    mkdir -p "ca-$root/issued"; touch "ca-$root/index.txt"; echo 01 > "ca-$root/serial"
    openssl req -new -config openssl.cnf -key "$root.key" -subj "$subj" -out "$root.csr" 2>/dev/null
    (cd "ca-$root" && openssl ca -batch -selfsign -config ../openssl.cnf -name test_ca \
        -keyfile "../$root.key" -extensions ca_ext -extfile ../openssl.cnf \
        -startdate 20240101000000Z -enddate 20450101000000Z -notext -in "../$root.csr" -out "../$root.pem" 2>/dev/null)
    rm -f "$root.csr"
done

rsa intermediate; sign intermediate "/CN=Test Issuing CA/O=Example" ca ca_ext $start $end 10
rsa alice;   sign alice   "/CN=alice/OU=Payments/O=Example" ca alice_ext $start $end 01E5
rsa bob;     sign bob     "/CN=bob/OU=Ops/O=Example" intermediate leaf_ext $start $end 20
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ecuser.key 2>/dev/null
sign ecuser  "/CN=ecuser/OU=Payments/O=Example" ca leaf_ext $start $end 30
rsa expired; sign expired "/CN=old/O=Example" ca leaf_ext 20200101000000Z 20210101000000Z 40
rsa small 1024; sign small "/CN=small/O=Example" ca leaf_ext $start $end 50
rsa mallory; sign mallory "/CN=mallory/O=Rogue" rogue-ca leaf_ext $start $end 60

cat alice.pem bob.pem ecuser.pem intermediate.pem > known.pem
cat > users.txt <<'USERS'
# name:password
alice:secret
bob:hunter2
carol:p:a:ss
USERS

# Certificates that chain to the root but may not sign a message, or only for some purposes.
rsa tls-server; sign tls-server "/CN=orders.example.com/O=Example" ca tls_server_ext $start $end 80
rsa tls-server-next; sign tls-server-next "/CN=orders.example.com/O=Example" ca tls_server_ext $start $end 83
rsa client;  sign client  "/CN=client/OU=Payments/O=Example" ca client_ext $start $end 81
rsa mailer;  sign mailer  "/CN=mailer/O=Example" ca mailer_ext $start $end 82
rsa revoked; sign revoked "/CN=revoked/O=Example" ca leaf_ext $start $end 70
rsa pinned
mkdir -p ca-pinned/issued; touch ca-pinned/index.txt; echo 90 > ca-pinned/serial
openssl req -new -config openssl.cnf -key pinned.key -subj "/CN=pinned/O=Partner" -out pinned.csr 2>/dev/null
(cd ca-pinned && openssl ca -batch -selfsign -config ../openssl.cnf -name test_ca -keyfile ../pinned.key \
    -extensions leaf_ext -extfile ../openssl.cnf -startdate $start -enddate $end -notext \
    -in ../pinned.csr -out ../pinned.pem 2>/dev/null)
rm -f pinned.csr

# gencrl ISSUER OUT NEXT_UPDATE
gencrl() {
    (cd "ca-$1" && openssl ca -batch -config ../openssl.cnf -name test_ca -gencrl \
        -cert "../$1.pem" -keyfile "../$1.key" -crl_lastupdate $start -crl_nextupdate "$3" \
        -out "../$2" 2>/dev/null)
}
revoke() {
    (cd "ca-$1" && openssl ca -batch -config ../openssl.cnf -name test_ca \
        -cert "../$1.pem" -keyfile "../$1.key" -revoke "../$2.pem" 2>/dev/null)
}
gencrl ca crl-root-empty.pem $end
revoke ca revoked
gencrl ca crl-root.pem $end
gencrl ca crl-root-expired.pem 20260101000000Z
gencrl intermediate crl-intermediate.pem $end
openssl crl -in crl-root.pem -outform DER -out crl-root.der
revoke ca intermediate
gencrl ca crl-root-revokes-intermediate.pem $end

# A CRL that claims to come from the root but is signed with the rogue CA's key.
mkdir -p ca-forged/issued; touch ca-forged/index.txt; echo 01 > ca-forged/serial
openssl req -new -x509 -config openssl.cnf -key rogue-ca.key -subj "/O=Example/CN=Test Root CA" \
    -days 7300 -out forged.pem 2>/dev/null
cp rogue-ca.key forged.key
gencrl forged crl-root-forged.pem $end
rm -f forged.pem forged.key

# SAML issuers: one self-signed IdP certificate, and one issued by an IdP CA.
rsa idp
mkdir -p ca-idp/issued; touch ca-idp/index.txt; echo A0 > ca-idp/serial
openssl req -new -config openssl.cnf -key idp.key -subj "/CN=Test IdP/O=Example IdP" -out idp.csr 2>/dev/null
(cd ca-idp && openssl ca -batch -selfsign -config ../openssl.cnf -name test_ca -keyfile ../idp.key \
    -extensions leaf_ext -extfile ../openssl.cnf -startdate $start -enddate $end -notext \
    -in ../idp.csr -out ../idp.pem 2>/dev/null)
rm -f idp.csr
rsa idp-ca
mkdir -p ca-idp-ca/issued; touch ca-idp-ca/index.txt; echo 01 > ca-idp-ca/serial
openssl req -new -config openssl.cnf -key idp-ca.key -subj "/CN=IdP CA/O=Example IdP" -out idp-ca.csr 2>/dev/null
(cd ca-idp-ca && openssl ca -batch -selfsign -config ../openssl.cnf -name test_ca -keyfile ../idp-ca.key \
    -extensions ca_ext -extfile ../openssl.cnf -startdate 20240101000000Z -enddate 20450101000000Z -notext \
    -in ../idp-ca.csr -out ../idp-ca.pem 2>/dev/null)
rm -f idp-ca.csr
rsa idp-issued; sign idp-issued "/CN=Issued IdP/O=Example IdP" idp-ca leaf_ext $start $end B0
# Encryption key pairs: ours (the service) and another recipient's.
rsa server-enc; sign server-enc "/CN=orders-enc.example.com/O=Example" ca enc_ext $start $end 91
rsa other-enc;  sign other-enc  "/CN=other-enc.example.com/O=Example" ca enc_ext $start $end 92
openssl pkcs12 -export -in alice.pem -inkey alice.key -name client -passout pass:secret -out alice.p12 2>/dev/null

touch .complete-5
