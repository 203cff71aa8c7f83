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

// TokenBytes is the number of bytes in a token: 120 bits (20 of the hour
// it was issued, 100 random), rendered as 24 base32 characters.
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

// newTokenValue returns a fresh token value, issued at now: its first 20
// bits (4 characters) count the hours since 2026 began, wrapping after 119
// years, and the other 100 bits are random. Tokens issued in the same hour
// sort together, so that a scheduler pass that issues thousands of them
// changes a few pages of the token index, not a page for each token; 100
// random bits are still far beyond guessing.
func newTokenValue(now time.Time) string {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	h := uint32(max(now.Sub(tokenEpoch)/time.Hour, 0)) & (1<<20 - 1)
	b[0], b[1], b[2] = byte(h>>12), byte(h>>4), byte(h<<4)|b[2]&0x0f
	return strings.ToLower(tokenEncoding.EncodeToString(b))
}

var tokenEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

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
