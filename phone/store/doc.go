// Package store keeps dialtone's history of calls and instant messages in a
// SQLite file (modernc.org/sqlite: pure Go, so it builds with CGO_ENABLED=0).
//
// The package is deliberately independent of the SIP stack and of the phone
// core: it has its own Call and Message types, and the phone copies into
// them. That keeps the schema from changing every time a core type does.
//
// # Durability
//
// An incoming MESSAGE is answered 200 OK only after AddMessage returns, so a
// stored message must survive not just a crash of dialtone but also a crash
// or power loss of the machine: once the peer has seen 200 it will not send
// again. The database therefore runs in WAL mode with synchronous=FULL, which
// fsyncs the WAL on every commit. (synchronous=NORMAL would survive a killed
// process, but a power cut could drop the last commits.) Each AddMessage and
// AddCall is its own transaction, so when it returns the row is on disk.
//
// # Cost and concurrency
//
// Writes are synchronous: the call returns once the commit is durable, which
// is one fsync, typically well under a few milliseconds on an SSD (about
// 0.8 ms on a virtualised ext4 disk; see BenchmarkAddMessage). The phone calls the writers from its own goroutines,
// never from the media path. A Store is safe for concurrent use: all writes
// go through a pool of exactly one SQLite connection, so writers queue in Go
// instead of fighting over the file lock (SQLITE_BUSY), and reads use a
// separate small pool which, thanks to WAL, never waits for the writer.
// Another process using the same file (a second dialtone, a history command)
// is handled by busy_timeout.
//
// # Peers
//
// Peers are stored as NormalizePeer returns them, and every query that takes
// a peer normalises it the same way, so "Bob" <sip:Bob@Example.COM;transport=tcp>
// and sip:Bob@example.com are one conversation.
//
// # Address book
//
// The same file keeps the contacts (schema v4, contacts.go): a name (unique in any letter
// case and Unicode form, NameKey), one or more addresses, a note. Addresses are stored as ContactKey gives them, which
// for SIP is NormalizePeer's form, so a peer's name is one indexed look-up (NameFor), with
// their URI parameters beside (contact_uris.params, schema v8: ";user=phone" is dialled);
// each address belongs to one contact. vcard.go reads and writes vCard.
//
// # Times
//
// Times are stored as integer microseconds since the Unix epoch (so they sort
// and compare in SQL), a zero time.Time as NULL; they come back in the local
// time zone with microsecond precision.
package store
