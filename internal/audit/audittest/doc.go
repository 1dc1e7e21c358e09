// Package audittest checks an implementation of audit.Sink and audit.Reader
// (a store backend's audit log) against their contract: [Run] appends
// through an audit.Log, reads back, and checks that every field survives
// byte for byte, that a taken sequence number is refused with
// audit.ErrConflict, and that the stored chain verifies. Store backends call
// it from their tests; it is used only by tests.
package audittest
