package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"bulletin/internal/store"
)

// apiHandler is a handler of the JSON API, called with the bearer token it
// was authorised by. It returns an error to answer with (see writeError).
type apiHandler func(w http.ResponseWriter, r *http.Request, tok *store.APIToken) error

// APIError is the error body of the JSON API:
// {"error": {"code": "not_found", "message": "…", "field": "email"}}.
// Codes are stable; messages are for people and may change.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error returns "code: message".
func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// The error codes of the API (docs/api.md lists them).
const (
	codeUnauthorized = "unauthorized" // 401: no token, or not a live one
	codeForbidden    = "forbidden"    // 403: the token's role may not do this
	codeNotFound     = "not_found"    // 404
	codeBadRequest   = "bad_request"  // 400: the body is not the JSON or CSV expected
	codeInvalid      = "invalid"      // 422: a field's value is refused (see field)
	codeConflict     = "conflict"     // 409: the name or address is taken
	codeSuppressed   = "suppressed"   // 409: the address is suppressed or erased
	codeInUse        = "in_use"       // 409: other records still need it
	codeBadState     = "bad_state"    // 409: a campaign is not in a state allowing this
	codeTooLarge     = "too_large"    // 413
	codeUnavailable  = "unavailable"  // 503: a part is not running (the campaign engine)
	codeInternal     = "internal"     // 500: see the daemon's log
)

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *APIError {
	e := apiErr(http.StatusUnprocessableEntity, codeInvalid, format, args...)
	e.Field = field
	return e
}

// maxAPIBody bounds a request body: a CSV import is the largest.
const maxAPIBody = 32 << 20

// api wraps an API handler: a live bearer token is required, with the
// admin role when role says so. The API uses no cookie, so it needs no
// CSRF token: a browser never sends the Authorization header by itself.
func (s *Server) api(role store.Role, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bulletin"`)
			s.writeError(w, r, apiErr(http.StatusUnauthorized, codeUnauthorized, "an API token is required: Authorization: Bearer TOKEN"))
			return
		}
		tok, err := s.store.APITokenBySecret(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bulletin", error="invalid_token"`)
			s.writeError(w, r, apiErr(http.StatusUnauthorized, codeUnauthorized, "unknown or revoked API token"))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if role == store.RoleAdmin && tok.Role != store.RoleAdmin {
			s.writeError(w, r, apiErr(http.StatusForbidden, codeForbidden, "this needs a token with the admin role"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		if err := h(w, r, tok); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeJSON writes v as the JSON body with status code.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeError answers err as the API's JSON error: an *APIError as it is,
// the store's sentinels with their codes, anything else as internal (and
// logged, as its words may name files or SQL).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *APIError
	var se *store.StateError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = apiErr(http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, store.ErrDuplicate):
		ae = apiErr(http.StatusConflict, codeConflict, "already exists")
	case errors.Is(err, store.ErrSuppressed):
		ae = apiErr(http.StatusConflict, codeSuppressed, "the address is suppressed or erased: only the person may opt in again")
	case errors.Is(err, store.ErrInUse):
		ae = apiErr(http.StatusConflict, codeInUse, "campaigns were sent to it: it is kept for their reports")
	case errors.As(err, &se):
		ae = apiErr(http.StatusConflict, codeBadState, "%s", se.Error())
	case errors.As(err, &mbe):
		ae = apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "the body is larger than %d bytes", mbe.Limit)
	default:
		s.log.Error("web: api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = apiErr(http.StatusInternalServerError, codeInternal, "internal error (see the daemon's log)")
	}
	writeJSON(w, ae.Status, map[string]*APIError{"error": ae})
}

// apiNotFound answers every path under /api/v1/ that is no route.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, apiErr(http.StatusNotFound, codeNotFound, "no such API route: %s %s", r.Method, r.URL.Path))
}

// decodeJSON reads a JSON request body into v, refusing unknown fields so
// that a misspelt field is an error rather than silently ignored.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return apiErr(http.StatusUnsupportedMediaType, codeBadRequest, "the body must be application/json, not %s", mt)
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return apiErr(http.StatusBadRequest, codeBadRequest, "the body is not the JSON expected: %v", err)
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, codeBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

// intParam reads an integer query parameter between lo and hi, def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
