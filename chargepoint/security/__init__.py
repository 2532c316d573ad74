"""The OCPP 1.6 Security Whitepaper's messages beyond the link's security profiles: security
events (SecurityEventNotification), the certificate store (InstallCertificate,
GetInstalledCertificateIds, DeleteCertificate), the station's own client certificate
(SignCertificate, CertificateSigned), ExtendedTriggerMessage, GetLog with LogStatusNotification,
and signed firmware (SignedUpdateFirmware, SignedFirmwareStatusNotification). Keys:
AdditionalRootCertificateCheck, CertificateSignedMaxChainSize, CertificateStoreMaxLength, CpoName.
"""
