/*
** namespaces.h — the namespace URIs and algorithm URIs the core recognises, in one place.
*/
#ifndef WD_NAMESPACES_H
#define WD_NAMESPACES_H

#define WD_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define WD_NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define WD_NS_WSSE   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define WD_NS_WSSE11 "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
#define WD_NS_WSU    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define WD_NS_DSIG   "http://www.w3.org/2000/09/xmldsig#"
#define WD_NS_XENC   "http://www.w3.org/2001/04/xmlenc#"
#define WD_NS_XENC11 "http://www.w3.org/2009/xmlenc11#"
#define WD_NS_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define WD_NS_XML    "http://www.w3.org/XML/1998/namespace"
#define WD_NS_WSA    "http://www.w3.org/2005/08/addressing"
#define WD_NS_WSA_2004 "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WD_NS_SAML2  "urn:oasis:names:tc:SAML:2.0:assertion"
#define WD_NS_SAML1  "urn:oasis:names:tc:SAML:1.0:assertion"

#define WD_SOAP11_ACTOR_NEXT "http://schemas.xmlsoap.org/soap/actor/next"
#define WD_SOAP12_ROLE_NEXT  "http://www.w3.org/2003/05/soap-envelope/role/next"
#define WD_SOAP12_ROLE_NONE  "http://www.w3.org/2003/05/soap-envelope/role/none"
#define WD_SOAP12_ROLE_ULTIMATE "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"

/* WS-Security token profiles */
#define WD_WSS_X509_PROFILE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"
#define WD_WSS_X509V3        WD_WSS_X509_PROFILE "#X509v3"
#define WD_WSS_X509_SKI      WD_WSS_X509_PROFILE "#X509SubjectKeyIdentifier"
#define WD_WSS_THUMBPRINT    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
#define WD_WSS_BASE64        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
#define WD_WSS_SAML_PROFILE  "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1"
#define WD_WSS_UT_PROFILE    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
#define WD_WSS_PASSWORD_TEXT   WD_WSS_UT_PROFILE "#PasswordText"
#define WD_WSS_PASSWORD_DIGEST WD_WSS_UT_PROFILE "#PasswordDigest"

/* XML-DSig algorithms */
#define WD_ALG_EXC_C14N        "http://www.w3.org/2001/10/xml-exc-c14n#"
#define WD_ALG_ENVELOPED       "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define WD_ALG_SHA1            "http://www.w3.org/2000/09/xmldsig#sha1"
#define WD_ALG_SHA256          "http://www.w3.org/2001/04/xmlenc#sha256"
#define WD_ALG_SHA384          "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define WD_ALG_SHA512          "http://www.w3.org/2001/04/xmlenc#sha512"
#define WD_ALG_RSA_SHA1        "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
#define WD_ALG_RSA_SHA256      "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define WD_ALG_RSA_SHA384      "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
#define WD_ALG_RSA_SHA512      "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
#define WD_ALG_RSA_PSS_SHA256  "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
#define WD_ALG_RSA_PSS_SHA384  "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
#define WD_ALG_RSA_PSS_SHA512  "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
#define WD_ALG_ECDSA_SHA1      "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
#define WD_ALG_ECDSA_SHA256    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define WD_ALG_ECDSA_SHA384    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
#define WD_ALG_ECDSA_SHA512    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"

/* XML Encryption algorithms and types */
#define WD_XENC_TYPE_ELEMENT   WD_NS_XENC "Element"
#define WD_XENC_TYPE_CONTENT   WD_NS_XENC "Content"
#define WD_XENC_RSA_OAEP_MGF1P WD_NS_XENC "rsa-oaep-mgf1p"
#define WD_XENC_RSA_OAEP       WD_NS_XENC11 "rsa-oaep"
#define WD_XENC_RSA_15         WD_NS_XENC "rsa-1_5"
#define WD_XENC_MGF1_SHA1      WD_NS_XENC11 "mgf1sha1"
#define WD_XENC_MGF1_SHA224    WD_NS_XENC11 "mgf1sha224"
#define WD_XENC_MGF1_SHA256    WD_NS_XENC11 "mgf1sha256"
#define WD_XENC_MGF1_SHA384    WD_NS_XENC11 "mgf1sha384"
#define WD_XENC_MGF1_SHA512    WD_NS_XENC11 "mgf1sha512"
#define WD_XENC_AES128_CBC     WD_NS_XENC "aes128-cbc"
#define WD_XENC_AES192_CBC     WD_NS_XENC "aes192-cbc"
#define WD_XENC_AES256_CBC     WD_NS_XENC "aes256-cbc"
#define WD_XENC_AES128_GCM     WD_NS_XENC11 "aes128-gcm"
#define WD_XENC_AES192_GCM     WD_NS_XENC11 "aes192-gcm"
#define WD_XENC_AES256_GCM     WD_NS_XENC11 "aes256-gcm"
#define WD_WSS_ENCRYPTED_KEY   "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"

#endif
