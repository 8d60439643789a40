package phone

import "time"

// Event is something that happened in the phone. Subscribers type-switch on it.
type Event interface {
	EventTime() time.Time
}

// Snapshot is the full state of the phone. Subscribe delivers one first, then change events.
type Snapshot struct {
	Time     time.Time
	Accounts []AccountStatus
	// DND is do-not-disturb (SetDND); DNDCode the response new calls get while it is on.
	DND     bool
	DNDCode int
	// Voicemail is what the servers of the accounts that reported any said last (mwi.go).
	Voicemail []Voicemail
}

// EventTime implements Event.
func (s Snapshot) EventTime() time.Time { return s.Time }

// AccountStatus is one account's registration state; it is also the registration change event.
type AccountStatus struct {
	Time    time.Time
	Account string // account name
	AOR     string
	State   RegState
	// Contact is our binding as the registrar granted it (Registered), Expires its lifetime.
	Contact string
	Expires time.Duration
	// Code and Reason are the last final response (0 when none arrived), Failure and Err why it failed.
	Code    int
	Reason  string
	Failure Failure
	Err     error
	// RetryIn is when the next attempt starts after a failure; 0 means no retry (stopped).
	RetryIn time.Duration
}

// EventTime implements Event.
func (s AccountStatus) EventTime() time.Time { return s.Time }

// Terminal reports whether the account stopped trying (a failure that retrying cannot fix).
func (s AccountStatus) Terminal() bool { return s.State == RegFailed && s.RetryIn == 0 }
