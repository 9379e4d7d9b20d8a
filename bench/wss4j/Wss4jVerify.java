/*
 * bench/wss4j/Wss4jVerify.java — Apache WSS4J 1.6 (Debian libwss4j-java, with Santuario)
 * verifying signed messages in a warmed-up JVM, driven by bench_verify over stdin/stdout so
 * that its rounds alternate with Warden's, libxmlsec1's and the floor's in one run.
 *
 * usage: java -cp ... Wss4jVerify [--decrypt P12 PASSWORD] CA_PEM MESSAGE... ; then, on stdin,
 * one command per line:
 *   warm INDEX SECONDS      run message INDEX (0-based) for SECONDS, print "ok"
 *   measure INDEX SECONDS   the same, timing each verification: "rate p50_us p99_us"
 * What one verification does: parse the bytes (namespace-aware DOM, the DocumentBuilder
 * reused), then WSSecurityEngine.processSecurityHeader with a Merlin crypto whose trust store
 * holds the CA: the Timestamp, the BinarySecurityToken, the signature (every Reference and
 * the SignatureValue) and the signer's chain (PKIX) are checked, as a WSS4J service does.
 * With --decrypt, the service's key pair (PKCS#12, alias and key password PASSWORD) decrypts
 * the message's EncryptedKey and EncryptedData first (bench/decrypt.c), and the message must
 * have been decrypted as well as verified.
 */
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSPasswordCallback;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.apache.ws.security.components.crypto.Merlin;
import org.w3c.dom.Document;

public final class Wss4jVerify {
    static {
        /* WSS4J logs a warning on every message without subject constraints; a service would
        ** configure its logging, and writing a line per message is not verification. Set
        ** before any WSS4J class loads. */
        System.setProperty("org.apache.commons.logging.Log", "org.apache.commons.logging.impl.NoOpLog");
    }

    private final WSSecurityEngine engine = new WSSecurityEngine();
    private final Merlin crypto = new Merlin();
    private Merlin decryption;          /* the service's key pair, or null */
    private CallbackHandler passwords;  /* its key password */
    private final DocumentBuilder builder;
    private final byte[][] messages;

    private Wss4jVerify(String caPem, String[] paths) throws Exception {
        WSSConfig.init();
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (FileInputStream in = new FileInputStream(caPem)) {
            int i = 0;
            for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in))
                trust.setCertificateEntry("ca" + i++, (X509Certificate) c);
        }
        crypto.setTrustStore(trust);
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        builder = factory.newDocumentBuilder();
        messages = new byte[paths.length][];
        for (int i = 0; i < paths.length; i++)
            messages[i] = Files.readAllBytes(Paths.get(paths[i]));
    }

    private void decryptWith(String p12, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(p12)) {
            keys.load(in, password.toCharArray());
        }
        decryption = new Merlin();
        decryption.setKeyStore(keys);
        passwords = (Callback[] callbacks) -> {
            for (Callback c : callbacks)
                if (c instanceof WSPasswordCallback)
                    ((WSPasswordCallback) c).setPassword(password);
        };
    }

    /* One verification; fails loudly when WSS4J did not verify a signature. */
    private void verifyOnce(byte[] message) throws Exception {
        Document doc = builder.parse(new ByteArrayInputStream(message));
        List<WSSecurityEngineResult> results = engine.processSecurityHeader(doc, null, passwords, crypto, decryption);
        boolean signed = false, decrypted = false;
        for (WSSecurityEngineResult result : results) {
            signed |= ((Integer) result.get(WSSecurityEngineResult.TAG_ACTION)) == WSConstants.SIGN;
            decrypted |= ((Integer) result.get(WSSecurityEngineResult.TAG_ACTION)) == WSConstants.ENCR;
        }
        if (!signed)
            throw new IllegalStateException("WSS4J found no verified signature");
        if (decryption != null && !decrypted)
            throw new IllegalStateException("WSS4J decrypted nothing");
    }

    private String run(int index, double seconds, boolean timed) throws Exception {
        double[] latencies = new double[1 << 20];
        int count = 0;
        long start = System.nanoTime(), end = start + (long) (seconds * 1e9), t = start;
        do {
            long before = t;
            verifyOnce(messages[index]);
            t = System.nanoTime();
            if (count < latencies.length)
                latencies[count++] = (t - before) / 1e3;
        } while (t < end);
        if (!timed)
            return "ok";
        Arrays.sort(latencies, 0, count);
        return String.format("%.1f %.1f %.1f", count / ((t - start) / 1e9), latencies[count / 2],
                             latencies[(int) (count * 0.99)]);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Wss4jVerify CA_PEM MESSAGE...");
            System.exit(2);
        }
        String p12 = null, password = null;
        if (args[0].equals("--decrypt") && args.length >= 5) {
            p12 = args[1];
            password = args[2];
            args = Arrays.copyOfRange(args, 3, args.length);
        }
        Wss4jVerify bench = new Wss4jVerify(args[0], Arrays.copyOfRange(args, 1, args.length));
        if (p12 != null)
            bench.decryptWith(p12, password);
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = commands.readLine()) != null;) {
            String[] words = line.trim().split("\\s+");
            String reply;
            try {
                if (words.length != 3 || !(words[0].equals("warm") || words[0].equals("measure")))
                    throw new IllegalArgumentException("unknown command: " + line);
                reply = bench.run(Integer.parseInt(words[1]), Double.parseDouble(words[2]), words[0].equals("measure"));
            } catch (Exception e) {
                reply = "error " + e;
            }
            System.out.println(reply);
            System.out.flush();
        }
    }
}
