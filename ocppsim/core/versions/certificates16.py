"""Example certificates of the 1.6 security whitepaper's default payloads: what a real peer
can read (PEM certificates and a CSR that parse, CertificateHashData that matches, a firmware
signature that verifies), made once with `ocppsim.security` and kept as data.

A root CA (`O=ocppsim, CN=ocppsim example root`, EC P-256, valid 2024-2049) is what
InstallCertificate installs and what DeleteCertificate and GetInstalledCertificateIds name by
its hash data. The CSR is a Charge Point's (`O=ocppsim` the CpoName, `CN=` the default serial
number, as the whitepaper asks), and CertificateSigned returns the certificate the root issued
for it. SignedUpdateFirmware carries a signing certificate the root issued and the signature of
the bytes `ocppsim example firmware\n` made with its key. No private key is kept: these are
examples, not credentials. `tests/core/test_core_versions_16.py` checks how they relate.
"""

from __future__ import annotations

#: The example root CA (InstallCertificate).
ROOT_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBxjCCAW2gAwIBAgIUFEQjfh3VMcGpQ4KexBArZvTrQhswCgYIKoZIzj0EAwIw\n"
    "MTEQMA4GA1UECgwHb2NwcHNpbTEdMBsGA1UEAwwUb2NwcHNpbSBleGFtcGxlIHJv\n"
    "b3QwHhcNMjQwMTAxMDAwMDAwWhcNNDkxMjMxMjM1OTU5WjAxMRAwDgYDVQQKDAdv\n"
    "Y3Bwc2ltMR0wGwYDVQQDDBRvY3Bwc2ltIGV4YW1wbGUgcm9vdDBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABAPMa/0c/WwmdOx956UNkMkXpDst5BAPMJATYDc7x6Xc\n"
    "GWr6B7psvn9K044k9uTU0U8s10AvYTIGMRxsdMM8rcmjYzBhMB0GA1UdDgQWBBR1\n"
    "KfV0sWgwMMqqNuZAbp0Pgt0zhzAfBgNVHSMEGDAWgBR1KfV0sWgwMMqqNuZAbp0P\n"
    "gt0zhzAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQD\n"
    "AgNHADBEAiBVNT9viQvFzIeGSq7ASDEyFyV9v6hZGmVUZY68bXT/KwIgD8VUPEZb\n"
    "C7qLLeowfhacWhogeVbBKw61gDpfJlN9/i0=\n"
    "-----END CERTIFICATE-----\n"
)

#: A Charge Point's CSR (SignCertificate).
CSR_PEM = (
    "-----BEGIN CERTIFICATE REQUEST-----\n"
    "MIHoMIGQAgEAMC4xEDAOBgNVBAoMB29jcHBzaW0xGjAYBgNVBAMMEWdpci52YXQu\n"
    "bXguMDAwZTQ4MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFM1QCM7CCI6jvrLf\n"
    "q0kxbQBnsK9a9DmtrhRNwksCDMQ2ARJ3iDfo8sosdShaLC/Hg9Evu80e8QUEAQtf\n"
    "21Z9uaAAMAoGCCqGSM49BAMCA0cAMEQCIGL2vnXhDpRW1W1Iu0w5PkdgDLXlRN+0\n"
    "S23bTWoghN4rAiAtJK2yUtdOpOPlFwVjcWVSAyTdgnrE1V5ZO0sIdpqGGA==\n"
    "-----END CERTIFICATE REQUEST-----\n"
)

#: The certificate the root issued for that CSR (CertificateSigned).
SIGNED_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB1jCCAXygAwIBAgIUQDOiijM4X3ziXqGdmFJOwKUv4b4wCgYIKoZIzj0EAwIw\n"
    "MTEQMA4GA1UECgwHb2NwcHNpbTEdMBsGA1UEAwwUb2NwcHNpbSBleGFtcGxlIHJv\n"
    "b3QwHhcNMjQwMTAxMDAwMDAwWhcNNDkxMjMxMjM1OTU5WjAuMRAwDgYDVQQKDAdv\n"
    "Y3Bwc2ltMRowGAYDVQQDDBFnaXIudmF0Lm14LjAwMGU0ODBZMBMGByqGSM49AgEG\n"
    "CCqGSM49AwEHA0IABBTNUAjOwgiOo76y36tJMW0AZ7CvWvQ5ra4UTcJLAgzENgES\n"
    "d4g36PLKLHUoWiwvx4PRL7vNHvEFBAELX9tWfbmjdTBzMB0GA1UdDgQWBBQmKTik\n"
    "uV/M/a/ESo9oVyq0G4K85jAfBgNVHSMEGDAWgBR1KfV0sWgwMMqqNuZAbp0Pgt0z\n"
    "hzAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEF\n"
    "BQcDAjAKBggqhkjOPQQDAgNIADBFAiEAtCxq0zZCFRJnwF+8KqcXrhicVF+E52+f\n"
    "5t1MZG5PtjsCIFaOZc6ur452uRV1aIKp34K3A0QXBEswYNjupOSbNV7v\n"
    "-----END CERTIFICATE-----\n"
)

#: A firmware signing certificate the root issued (SignedUpdateFirmware).
FIRMWARE_SIGNER_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB5DCCAYqgAwIBAgIUQYx2B7sFNlGYEHhbzaLQ3fhjw0gwCgYIKoZIzj0EAwIw\n"
    "MTEQMA4GA1UECgwHb2NwcHNpbTEdMBsGA1UEAwwUb2NwcHNpbSBleGFtcGxlIHJv\n"
    "b3QwHhcNMjQwMTAxMDAwMDAwWhcNNDkxMjMxMjM1OTU5WjA8MRAwDgYDVQQKDAdv\n"
    "Y3Bwc2ltMSgwJgYDVQQDDB9vY3Bwc2ltIGV4YW1wbGUgZmlybXdhcmUgc2lnbmVy\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqPA5Zi2HQUhUqdTo7oMuKTQrsUYo\n"
    "cXJ5xC1WWDpMV3tKZrKv4+TG+Dulo3IUwQG4hpOX1BT/RdzopC8L0OIxaKN1MHMw\n"
    "HQYDVR0OBBYEFNUuVyfZq22qFtwsEwDznDF/btDGMB8GA1UdIwQYMBaAFHUp9XSx\n"
    "aDAwyqo25kBunQ+C3TOHMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMG\n"
    "A1UdJQQMMAoGCCsGAQUFBwMCMAoGCCqGSM49BAMCA0gAMEUCIGFqP0FOlHgb8KqK\n"
    "W9EG/rFlOQbH7PKSh9RQa8ihByfhAiEA/woGf50Neeiv3HhptP5rlKkurHFba6fz\n"
    "MfKlX4Xxjyk=\n"
    "-----END CERTIFICATE-----\n"
)

#: The signed bytes and their signature (ECDSA P-256, SHA-256, Base64).
SIGNED_FIRMWARE = b"ocppsim example firmware\n"
FIRMWARE_SIGNATURE = (
    "MEUCIQC5KuXRF85Fkw7oSKMBVgiQwWsliVIFKuuA4qbtKNmI6wIgExkFtrkA"
    "LllM+K3pI4V4kh3m3OtPvyHOHNjIYn98ClA="
)

#: The root's CertificateHashData (SHA-256).
ROOT_HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "ac7fa76b02c299a135b4c1e17b060557cf4fb8803754ff27364429fd2ad84137",
    "issuerKeyHash": "bc8d3cc54246efbff359142a756737fb24ce044d49bdd4712cbc2c37d5c45a39",
    "serialNumber": "1444237e1dd531c1a943829ec4102b66f4eb421b",
}
