/*
 * tests/interop/java/Wss4jSecure.java — Apache WSS4J 1.6 (Debian libwss4j-java, with
 * Santuario) securing a SOAP request for the encryption interop tests: a Timestamp, a
 * signature by the client (BinarySecurityToken, RSA-SHA256, SHA-256 digests over Body and
 * Timestamp) and an encryption for the server (EncryptedKey + ReferenceList), in the order
 * asked, exactly as a WSS4J client does (WSSecSignature, WSSecEncrypt).
 *
 * usage: java -cp ... Wss4jSecure KEY=VALUE...
 *   in, out              the request to secure and where to write the result
 *   p12, password        a PKCS#12 with the signer's key and certificate (alias "client")
 *   recipient            the server's certificate (PEM), whose key encrypts
 *   order                sign-encrypt (default), encrypt-sign, encrypt (no signature), sign
 *   keyid                how the EncryptedKey names the server's certificate: issuer-serial
 *                        (default), ski, thumbprint, bst (a BinarySecurityToken, direct reference)
 *   data                 the data algorithm URI (default aes128-gcm)
 *   transport            the key transport URI (default rsa-oaep-mgf1p)
 *   oaep_digest          the OAEP digest URI (default: none given, SHA-1)
 *   encrypt              comma-separated parts: Body (content), Timestamp (element),
 *                        Action (element: a wsse11:EncryptedHeader), UsernameToken (element);
 *                        default Body
 *   sign                 comma-separated parts to sign: Body, Timestamp, Action (default Body,Timestamp)
 */
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSEncryptionPart;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.components.crypto.Merlin;
import org.apache.ws.security.message.WSSecEncrypt;
import org.apache.ws.security.message.WSSecHeader;
import org.apache.ws.security.message.WSSecSignature;
import org.apache.ws.security.message.WSSecTimestamp;
import org.w3c.dom.Document;

public final class Wss4jSecure {
    static {
        System.setProperty("org.apache.commons.logging.Log", "org.apache.commons.logging.impl.NoOpLog");
    }

    private static List<WSEncryptionPart> parts(String list, String soapNs, boolean encrypt) {
        List<WSEncryptionPart> parts = new ArrayList<>();
        for (String name : list.split(",")) {
            if (name.isEmpty())
                continue;
            if (name.equals("Body"))
                parts.add(new WSEncryptionPart("Body", soapNs, encrypt ? "Content" : ""));
            else if (name.equals("Timestamp"))
                parts.add(new WSEncryptionPart("Timestamp", WSConstants.WSU_NS, encrypt ? "Element" : ""));
            else if (name.equals("Action"))
                parts.add(new WSEncryptionPart("Action", "http://www.w3.org/2005/08/addressing", encrypt ? "Element" : ""));
            else if (name.equals("UsernameToken"))
                parts.add(new WSEncryptionPart("UsernameToken", WSConstants.WSSE_NS, encrypt ? "Element" : ""));
            else
                throw new IllegalArgumentException("unknown part " + name);
        }
        return parts;
    }

    private static int keyIdentifier(String name) {
        switch (name) {
        case "issuer-serial": return WSConstants.ISSUER_SERIAL;
        case "ski": return WSConstants.SKI_KEY_IDENTIFIER;
        case "thumbprint": return WSConstants.THUMBPRINT_IDENTIFIER;
        case "bst": return WSConstants.BST_DIRECT_REFERENCE;
        default: throw new IllegalArgumentException("unknown keyid " + name);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        o.put("order", "sign-encrypt");
        o.put("keyid", "issuer-serial");
        o.put("data", WSConstants.AES_128_GCM);
        o.put("transport", WSConstants.KEYTRANSPORT_RSAOEP);
        o.put("encrypt", "Body");
        o.put("sign", "Body,Timestamp");
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0)
                throw new IllegalArgumentException("expected KEY=VALUE, got " + arg);
            o.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        WSSConfig.init();

        KeyStore store = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(o.get("p12"))) {
            store.load(in, o.get("password").toCharArray());
        }
        try (FileInputStream in = new FileInputStream(o.get("recipient"))) {
            X509Certificate server = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            store.setCertificateEntry("server", server);
        }
        Merlin crypto = new Merlin();
        crypto.setKeyStore(store);

        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        DocumentBuilder builder = factory.newDocumentBuilder();
        Document doc = builder.parse(new ByteArrayInputStream(Files.readAllBytes(Paths.get(o.get("in")))));
        String soapNs = doc.getDocumentElement().getNamespaceURI();

        WSSecHeader header = new WSSecHeader();
        header.setMustUnderstand(true);
        header.insertSecurityHeader(doc);
        WSSecTimestamp timestamp = new WSSecTimestamp();
        timestamp.setTimeToLive(300);
        timestamp.build(doc, header);

        WSSecSignature signature = new WSSecSignature();
        signature.setUserInfo("client", o.get("password"));
        signature.setKeyIdentifierType(WSConstants.BST_DIRECT_REFERENCE);
        signature.setSignatureAlgorithm("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
        signature.setDigestAlgo(WSConstants.SHA256);
        signature.setParts(parts(o.get("sign"), soapNs, false));

        WSSecEncrypt encrypt = new WSSecEncrypt();
        encrypt.setUserInfo("server");
        encrypt.setKeyIdentifierType(keyIdentifier(o.get("keyid")));
        encrypt.setSymmetricEncAlgorithm(o.get("data"));
        encrypt.setKeyEnc(o.get("transport"));
        if (o.containsKey("oaep_digest"))
            encrypt.setDigestAlgorithm(o.get("oaep_digest"));
        encrypt.setParts(parts(o.get("encrypt"), soapNs, true));

        switch (o.get("order")) {
        case "sign-encrypt":
            signature.build(doc, crypto, header);
            encrypt.build(doc, crypto, header);
            break;
        case "encrypt-sign":
            encrypt.build(doc, crypto, header);
            signature.build(doc, crypto, header);
            break;
        case "encrypt":
            encrypt.build(doc, crypto, header);
            break;
        case "sign":
            signature.build(doc, crypto, header);
            break;
        default:
            throw new IllegalArgumentException("unknown order " + o.get("order"));
        }

        Transformer transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        try (FileOutputStream out = new FileOutputStream(o.get("out"))) {
            transformer.transform(new DOMSource(doc), new StreamResult(out));
        }
    }
}
