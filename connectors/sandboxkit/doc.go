// Package sandboxkit holds the test scaffolding that the platform sandboxes
// (connectors/{xero,qbo,sage,netsuite,freeagent}/sandbox) share: a manual
// clock, the consent-page client that plays the user, and the listener that
// serves a sandbox in the background.
//
// Only what is the same for every platform lives here; anything that
// follows a platform's documented behaviour (error shapes, fault types,
// limits, which form field picks the tenant) stays in that platform's
// sandbox, which re-exports these pieces under its own names so callers do
// not change.
package sandboxkit
