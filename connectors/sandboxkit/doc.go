// Package sandboxkit holds what the platform sandboxes
// (connectors/{xero,qbo,sage,netsuite,freeagent}/sandbox) share, so that
// each keeps only what its platform does differently:
//
//   - OAuth: the client registry, the authorization endpoint's client,
//     redirect-URI and response-type checks, authorization codes (single
//     use, bound to their client, redirect URI, site and, where the platform
//     takes it, PKCE challenge), grants, and access and refresh tokens with
//     the platform's lifetimes and rotation rule. A sandbox gives its
//     envelopes, pages, headers and lifetimes as a Platform.
//   - fault injection (Faults, DropResponse, Hold), the Gate that holds
//     calls in flight, the manual Clock;
//   - the HTTP scaffold: Serve, Methods, WriteJSON, Redirect;
//   - persistence (Store, Keeper, Keep): a sandbox given a data folder keeps
//     its state there, one JSON file replaced atomically (temporary file,
//     fsync, rename, folder fsync) after every call that may change it and
//     loaded at start, so a restarted development system needs no
//     reconnection. A file is bounded (DefaultMaxStateBytes): past it the
//     last snapshot that fit is kept and changes are refused with 507;
//   - the consent-page client that plays the user in tests (ConsentPage).
//
// Anything that follows a platform's documented behaviour (error shapes,
// fault types, limits, which form field picks the tenant) stays in that
// platform's sandbox, which re-exports these pieces under its own names so
// callers do not change.
package sandboxkit
