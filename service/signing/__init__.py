"""Digital-signature infrastructure (no database, no web framework; plain functions over bytes).

* :mod:`service.signing.pki` — simulated root / issuing CAs, signer certificates, encrypted key PEM, CRLs.
* :mod:`service.signing.documents` — reportlab PDFs: Mẫu 01 receipt, result document ``…-KQ1``, Mẫu 04.
* :mod:`service.signing.pades` — PAdES B-B signing at a given (simulated) time and offline verification.

Legal basis simulated: Decree 45/2020/NĐ-CP Art. 14(3) (electronic results bear the agency's digital
signature), Decree 23/2025/NĐ-CP (e-signatures and trust services), Circular 01/2018/TT-VPCP Art. 10
(one-stop forms are digitally signed). Every certificate is labelled "SIMULATION — NOT FOR LEGAL USE".
"""
