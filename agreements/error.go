package agreements

import (
	"errors"
	"fmt"
)

// Error codes. They are stable strings: they appear in logs and in the
// command line's messages.
const (
	ECONFLICT = "conflict" // the move is not allowed in the current state
	EINTERNAL = "internal" // a bug or a failure of the store
	EINVALID  = "invalid"  // the input is malformed or incomplete
	ENOTFOUND = "not_found"
)

// Error is a domain error. Its Message is written for the person who caused
// it and is safe to put in a reply email; any other error is not.
type Error struct {
	Code    string
	Message string
}

// Sentinels for errors.Is. An *Error matches the sentinel with its Code.
var (
	ErrConflict = &Error{Code: ECONFLICT}
	ErrInvalid  = &Error{Code: EINVALID}
	ErrNotFound = &Error{Code: ENOTFOUND}
)

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Message
}

// Is reports whether target is the sentinel for e's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the *Error in err's chain, which may be
// shown to a party, or "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Error()
	}
	return "internal error"
}
