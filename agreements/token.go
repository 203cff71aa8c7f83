package agreements

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Purpose says what a reply token is for.
type Purpose string

// The purposes of reply tokens.
const (
	PurposeConfirm  Purpose = "confirm"  // Ref is the version number
	PurposeCheckIn  Purpose = "checkin"  // Ref is the check-in round
	PurposeCommands Purpose = "commands" // Ref is 0
)

// TokenBytes is the number of random bytes in a token: 120 bits, rendered as
// 24 base32 characters.
const TokenBytes = 15

// Token identifies one party on one agreement for one purpose in reply
// addresses (service+TOKEN@domain).
type Token struct {
	Value       string // lowercase base32 without padding
	AgreementID int64
	PartyID     int64
	Purpose     Purpose
	Ref         int64
	CreatedAt   time.Time
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTokenValue returns a fresh random token value.
func newTokenValue() string {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	return strings.ToLower(tokenEncoding.EncodeToString(b))
}

// NormalizeToken returns s as tokens are stored (lowercase), and whether it
// has a token's form at all. Lookups use it, so a token is found whatever its
// case in the reply address.
func NormalizeToken(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != tokenEncoding.EncodedLen(TokenBytes) {
		return "", false
	}
	if _, err := tokenEncoding.DecodeString(strings.ToUpper(s)); err != nil {
		return "", false
	}
	return s, true
}
