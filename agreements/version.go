package agreements

import "time"

// Version is one version of an agreement's terms, as the parties confirm it.
type Version struct {
	AgreementID   int64
	Number        int
	Terms         Terms
	CanonicalText string
	Fingerprint   string
	CreatedAt     time.Time
}

// Confirmation records that a party confirmed a version.
type Confirmation struct {
	AgreementID int64
	Version     int
	PartyID     int64
	ConfirmedAt time.Time
	MessageID   string // the reply that confirmed, or "cli:…" for the operator
	AuthResult  string // e.g. "dkim=pass dmarc=pass", "none", "unparsed"
}

// AgreementFilter selects agreements for FindAgreements. Zero fields match
// everything.
type AgreementFilter struct {
	Status  Status
	Address string // a party's address, matched without regard to case
	Limit   int
}
