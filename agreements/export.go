package agreements

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Record is everything the store holds about one agreement: what "show"
// prints and an export carries.
type Record struct {
	Agreement     *Agreement
	Versions      []*Version
	Confirmations []*Confirmation
	Events        []Event
	Rounds        []Round
	EventCount    int64  // the length of the log, as the agreement's row says
	EventHead     string // the hash of its last event, as the agreement's row says
	ChainErr      error  // why the log does not verify; nil when it does
}

// FindRecord returns the record of agreement id, or ErrNotFound.
func (db *DB) FindRecord(ctx context.Context, id int64) (*Record, error) {
	a, err := db.FindAgreementByID(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &Record{Agreement: a}
	if r.Versions, err = db.FindVersions(ctx, id); err != nil {
		return nil, err
	}
	if r.Confirmations, err = db.FindConfirmations(ctx, id); err != nil {
		return nil, err
	}
	if r.Events, err = db.FindEvents(ctx, id); err != nil {
		return nil, err
	}
	if r.Rounds, err = db.FindRounds(ctx, id); err != nil {
		return nil, err
	}
	if r.EventCount, r.EventHead, err = db.EventHead(ctx, id); err != nil {
		return nil, err
	}
	r.ChainErr = VerifyChain(r.Events, r.EventHead, r.EventCount)
	return r, nil
}

// PartyAddress returns the address of the party with the given ID.
func (r *Record) PartyAddress(id int64) string {
	if p := r.Agreement.Party(id); p != nil {
		return p.Address
	}
	return fmt.Sprintf("party %d", id)
}

// ConfirmationsOf returns the confirmations of version n.
func (r *Record) ConfirmationsOf(n int) []*Confirmation {
	var cs []*Confirmation
	for _, c := range r.Confirmations {
		if c.Version == n {
			cs = append(cs, c)
		}
	}
	return cs
}

// ExportFormat names the JSON export; ExportFormatVersion changes when its
// fields change meaning.
const (
	ExportFormat        = "inwriting-export"
	ExportFormatVersion = 1
)

// Export is the JSON export of an agreement: everything needed to check,
// without the server, that a copy is what the parties confirmed. The event
// log is a hash chain (see EventHash) that ends at Chain.Head.
type Export struct {
	Format        string               `json:"format"`
	FormatVersion int                  `json:"format_version"`
	ExportedAt    time.Time            `json:"exported_at"`
	Agreement     ExportAgreement      `json:"agreement"`
	Versions      []ExportVersion      `json:"versions"`
	Confirmations []ExportConfirmation `json:"confirmations"`
	Rounds        []Round              `json:"rounds"`
	Events        []Event              `json:"events"`
	Chain         ExportChain          `json:"chain"`
}

// ExportAgreement is the agreement as it stands.
type ExportAgreement struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Status      Status    `json:"status"`
	Version     int       `json:"version"`
	Fingerprint string    `json:"fingerprint"`
	Terms       Terms     `json:"terms"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ExportVersion is one version with its canonical text.
type ExportVersion struct {
	Number        int       `json:"number"`
	Fingerprint   string    `json:"fingerprint"`
	CreatedAt     time.Time `json:"created_at"`
	CanonicalText string    `json:"canonical_text"`
}

// ExportConfirmation is one confirmation.
type ExportConfirmation struct {
	Version     int       `json:"version"`
	Party       string    `json:"party"`
	ConfirmedAt time.Time `json:"confirmed_at"`
	MessageID   string    `json:"message_id"`
	AuthResult  string    `json:"auth_result"`
}

// ExportChain is where the event log ends.
type ExportChain struct {
	Count int64  `json:"count"`
	Head  string `json:"head"`
}

// Export returns r as an export made at now.
func (r *Record) Export(now time.Time) *Export {
	a := r.Agreement
	e := &Export{
		Format:        ExportFormat,
		FormatVersion: ExportFormatVersion,
		ExportedAt:    now.UTC().Truncate(time.Second),
		Agreement: ExportAgreement{
			ID: a.ID, Title: a.Terms.Title, Status: a.Status, Version: a.Version, Fingerprint: a.Fingerprint,
			Terms: a.Terms, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		},
		Versions:      []ExportVersion{},
		Confirmations: []ExportConfirmation{},
		Rounds:        append([]Round{}, r.Rounds...),
		Events:        r.Events,
		Chain:         ExportChain{Count: r.EventCount, Head: r.EventHead},
	}
	for _, v := range r.Versions {
		e.Versions = append(e.Versions, ExportVersion{Number: v.Number, Fingerprint: v.Fingerprint, CreatedAt: v.CreatedAt, CanonicalText: v.CanonicalText})
	}
	for _, c := range r.Confirmations {
		e.Confirmations = append(e.Confirmations, ExportConfirmation{
			Version: c.Version, Party: r.PartyAddress(c.PartyID), ConfirmedAt: c.ConfirmedAt, MessageID: c.MessageID, AuthResult: c.AuthResult,
		})
	}
	return e
}

// ParseExport reads a JSON export. Data that is not JSON, not an export,
// or of another format version is an EINVALID error.
func ParseExport(data []byte) (*Export, error) {
	var e Export
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, Errorf(EINVALID, "not a JSON export: %v", err)
	}
	switch {
	case e.Format != ExportFormat:
		return nil, Errorf(EINVALID, "JSON but not an inwriting export (format %q)", e.Format)
	case e.FormatVersion != ExportFormatVersion:
		return nil, Errorf(EINVALID, "export format %d; this inwriting reads format %d", e.FormatVersion, ExportFormatVersion)
	}
	return &e, nil
}

// ExportCheck is what an export says of itself, once checked.
type ExportCheck struct {
	ChainErr error    // why its event log does not verify; nil when it does
	Problems []string // where its fields disagree with its own log and texts

	// Parties are the parties of its terms, with IDs 1, 2, … in order;
	// Confirmations are the confirmations of its current version that
	// its log records, by those IDs.
	Parties       []Party
	Confirmations []*Confirmation
}

// Check checks an export on its own: its event log is an unbroken chain
// to its head; each version's text has its fingerprint, which the log
// records; the structured terms are, word for word, the canonical text of
// the current version, whose fingerprint and title the agreement carries;
// each confirmation and each check-in answer is the one the log records.
func (e *Export) Check() ExportCheck {
	var c ExportCheck
	a := e.Agreement
	problem := func(format string, args ...any) { c.Problems = append(c.Problems, fmt.Sprintf(format, args...)) }

	c.ChainErr = VerifyChain(e.Events, e.Chain.Head, e.Chain.Count)
	if c.ChainErr == nil && len(e.Events) > 0 && e.Events[0].AgreementID != a.ID {
		c.ChainErr = fmt.Errorf("the event log belongs to agreement %d", e.Events[0].AgreementID)
	}
	versions := map[string]bool{}    // "N FP" logged
	confirmed := map[string]string{} // "N party message-id" → "auth at"
	checkIns := map[string]string{}  // "round party" → the statuses last logged
	for _, ev := range e.Events {
		p, err := ev.Payload()
		if err != nil {
			problem("%v", err)
			continue
		}
		switch d := p.(type) {
		case VersionEvent:
			if ev.Type == EventVersionAdded {
				versions[fmt.Sprintf("%d %s", d.Version, d.Fingerprint)] = true
			}
		case ConfirmedEvent:
			confirmed[fmt.Sprintf("%d %s %s", d.Version, strings.ToLower(d.Party), d.MessageID)] = d.AuthResult + " " + ev.At.UTC().Format(time.RFC3339)
		case CheckInEvent:
			checkIns[d.Round+" "+strings.ToLower(d.Party)] = statusesKey(d.Statuses)
		}
	}
	if len(e.Events) > 0 && !e.Events[0].At.Equal(a.CreatedAt) {
		problem("the agreement's created_at is not the time of its first event")
	}

	var current *ExportVersion
	for i, v := range e.Versions {
		switch {
		case Fingerprint(v.CanonicalText) != v.Fingerprint:
			problem("version %d: its canonical text does not match its fingerprint", v.Number)
		case !versions[fmt.Sprintf("%d %s", v.Number, v.Fingerprint)]:
			problem("version %d: its fingerprint is not in the event log", v.Number)
		}
		if v.Number == a.Version {
			current = &e.Versions[i]
		}
	}
	switch {
	case current == nil:
		problem("the export has no text of version %d, the agreement's version", a.Version)
	case a.Fingerprint != current.Fingerprint:
		problem("the agreement's fingerprint is not that of version %d", a.Version)
	case CanonicalText(a.ID, a.Version, a.Terms) != current.CanonicalText:
		problem("the agreement's terms are not the text of version %d that was confirmed", a.Version)
	}
	if t := a.Terms; t.Title != a.Title {
		problem("the agreement's title is not the title in its terms")
	}

	ids := map[string]int64{}
	for i, p := range a.Terms.Parties {
		p.ID = int64(i + 1)
		ids[strings.ToLower(p.Address)] = p.ID
		c.Parties = append(c.Parties, p)
	}
	for _, x := range e.Confirmations {
		logged, ok := confirmed[fmt.Sprintf("%d %s %s", x.Version, strings.ToLower(x.Party), x.MessageID)]
		switch {
		case !ok:
			problem("the confirmation of version %d by %s is not in the event log", x.Version, x.Party)
			continue
		case logged != x.AuthResult+" "+x.ConfirmedAt.UTC().Format(time.RFC3339):
			problem("the confirmation of version %d by %s is not as the event log records it", x.Version, x.Party)
			continue
		}
		if x.Version == a.Version {
			c.Confirmations = append(c.Confirmations, &Confirmation{AgreementID: a.ID, Version: x.Version, PartyID: ids[strings.ToLower(x.Party)],
				ConfirmedAt: x.ConfirmedAt, MessageID: x.MessageID, AuthResult: x.AuthResult})
		}
	}
	for _, r := range e.Rounds {
		for _, p := range r.Parties {
			if p.Answer == nil {
				continue
			}
			if logged, ok := checkIns[r.Occurrence+" "+strings.ToLower(p.Party)]; !ok || logged != statusesKey(p.Answer.Statuses) {
				problem("the check-in of %s by %s is not the answer the event log records", r.Occurrence, p.Party)
			}
		}
	}
	return c
}

func statusesKey(m map[int]string) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%d=%s;", n, m[n])
	}
	return b.String()
}

// Compare returns where export e disagrees with record r, field by field;
// none when e is a true export of r, made at e.ExportedAt. An export made
// earlier is a true one as long as it holds what was recorded then: a
// prefix of the log, versions and confirmations as recorded, and rounds
// as they stood.
func (r *Record) Compare(e *Export) []string {
	var diffs []string
	diff := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	now := r.Export(e.ExportedAt)

	// The log: a prefix of the record's.
	n := len(e.Events)
	switch {
	case n > len(r.Events):
		diff("the export has %d events, the record %d", n, len(r.Events))
		n = len(r.Events)
	case e.Chain.Count != int64(n):
		diff("its chain says %d events, it has %d", e.Chain.Count, n)
	}
	for i := range n {
		if !sameJSON(e.Events[i], r.Events[i]) {
			diff("event %d", r.Events[i].Seq)
			return diffs // all that follows stands on it
		}
	}
	if n > 0 && e.Chain.Head != r.Events[n-1].Hash {
		diff("its chain head is not the hash of event %d", n)
	}
	latest := n == len(r.Events)

	// The agreement: what cannot change, and the rest when nothing was
	// logged since the export.
	a, ra := e.Agreement, now.Agreement
	var version *Version
	for _, v := range r.Versions {
		if v.Number == a.Version {
			version = v
		}
	}
	switch {
	case a.ID != ra.ID || !a.CreatedAt.Equal(ra.CreatedAt):
		diff("the agreement's id or created_at")
	case version == nil:
		diff("the record has no version %d", a.Version)
	case a.Fingerprint != version.Fingerprint:
		diff("the fingerprint of version %d", a.Version)
	case a.Version == ra.Version && !sameJSON(a.Terms, ra.Terms), a.Version != ra.Version && !sameJSON(a.Terms, version.Terms):
		diff("the terms of version %d", a.Version)
	case a.Title != version.Terms.Title:
		diff("the title of version %d", a.Version)
	case latest && (a.Version != ra.Version || a.Status != ra.Status || !a.UpdatedAt.Equal(ra.UpdatedAt)):
		diff("the agreement's version, status or updated_at (the record has version %d, %s)", ra.Version, ra.Status)
	}

	// Versions and confirmations: each as recorded; all of them when
	// nothing was logged since.
	recorded := map[int]ExportVersion{}
	for _, v := range now.Versions {
		recorded[v.Number] = v
	}
	for _, v := range e.Versions {
		if rv, ok := recorded[v.Number]; !ok || !sameJSON(v, rv) {
			diff("version %d", v.Number)
		}
	}
	if latest && len(e.Versions) != len(now.Versions) {
		diff("the export has %d versions, the record %d", len(e.Versions), len(now.Versions))
	}
	confs := map[string]bool{}
	for _, c := range now.Confirmations {
		confs[string(mustJSON(c))] = true
	}
	for _, c := range e.Confirmations {
		if !confs[string(mustJSON(c))] {
			diff("the confirmation of version %d by %s", c.Version, c.Party)
		}
	}
	if latest && len(e.Confirmations) != len(now.Confirmations) {
		diff("the export has %d confirmations, the record %d", len(e.Confirmations), len(now.Confirmations))
	}

	// Rounds: each as the record has it, but for what came after the
	// export (a digest sent later, answers logged later).
	rounds := map[string]Round{}
	for _, rd := range now.Rounds {
		rounds[rd.Occurrence] = rd
	}
	for _, rd := range e.Rounds {
		rr, ok := rounds[rd.Occurrence]
		if !ok {
			diff("the round of %s is not in the record", rd.Occurrence)
			continue
		}
		if digest, err := time.Parse(time.RFC3339, rr.DigestSentAt); rd.DigestSentAt == "" && err == nil && digest.After(e.ExportedAt) {
			rr.DigestSentAt = ""
		}
		if !latest {
			rd.Parties, rr.Parties = withoutAnswers(rd.Parties), withoutAnswers(rr.Parties)
		}
		if !sameJSON(rd, rr) {
			diff("the round of %s", rd.Occurrence)
		}
		delete(rounds, rd.Occurrence)
	}
	for occ, rd := range rounds {
		if !rd.OpenedAt.After(e.ExportedAt) {
			diff("the round of %s is missing", occ)
		}
	}
	slices.Sort(diffs)
	return slices.Compact(diffs)
}

// withoutAnswers returns ps with answers set aside: an older export may
// not have answers logged since.
func withoutAnswers(ps []RoundParty) []RoundParty {
	out := make([]RoundParty, len(ps))
	for i, p := range ps {
		p.AnsweredAt, p.Answer = "", nil
		out[i] = p
	}
	return out
}

func sameJSON(a, b any) bool { return bytes.Equal(mustJSON(a), mustJSON(b)) }

// mustJSON returns v as JSON: v is always one of the export's types,
// which marshal without error.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
