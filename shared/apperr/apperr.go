// Package apperr is the platform's one application error type. Domain code returns *Error with a
// Code; the HTTP layer (package web) maps codes to statuses and JSON bodies in one place, and every
// other error is an internal one whose details never reach the client.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error by what the caller can do about it.
type Code string

const (
	Invalid         Code = "invalid"         // the request is malformed or fails validation
	Unauthenticated Code = "unauthenticated" // no valid credentials
	Forbidden       Code = "forbidden"       // credentials valid, action not allowed
	NotFound        Code = "not_found"       // no such object (or not visible to the caller)
	Conflict        Code = "conflict"        // the object's state does not allow the action
	TooLarge        Code = "too_large"       // the request body exceeds its cap
	RateLimited     Code = "rate_limited"    // too many attempts
	Unsupported     Code = "unsupported"     // media type or method not supported
	Unavailable     Code = "unavailable"     // a dependency is down; retry later
	Internal        Code = "internal"        // a bug or an unexpected failure
)

// Error is an error a user can be told about.
type Error struct {
	Code    Code
	Message string // safe to show to the client
	Field   string // the offending input field, as a JSON pointer such as /data/attributes/name
	Err     error  // the cause, logged but never shown
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one input field.
func Field(pointer, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: pointer, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with code and message whose cause is err.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain; non-application errors become an Internal error
// with a generic message, so their text never reaches a client.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "Internal error.", Err: err}
}
