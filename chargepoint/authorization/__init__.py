"""Who may charge: Authorize, the Authorization Cache (ClearCache) and the Local Authorization
List (SendLocalList, GetLocalListVersion). Keys: AuthorizationCacheEnabled, LocalPreAuthorize,
LocalAuthorizeOffline, AllowOfflineTxForUnknownId, AlwaysAllowOfflineTransactions,
LocalAuthListEnabled, LocalAuthListMaxLength, SendLocalListMaxLength, AuthEnabled."""
