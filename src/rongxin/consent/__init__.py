"""Enterprise authorizations (经企业授权) and their lifecycle: requests by institutions, the risk
notice, approval with signed evidence, revocation, pause, expiry, and the active-authorization
check the access policy relies on."""
