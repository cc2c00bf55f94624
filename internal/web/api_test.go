package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bulletin/internal/store"
)

// apiClient calls the API with a bearer token.
type apiClient struct {
	h     *harness
	token string
}

func (h *harness) apiToken(role store.Role) *apiClient {
	h.t.Helper()
	secret, _, err := h.st.CreateAPIToken(context.Background(), "t-"+string(role), role)
	if err != nil {
		h.t.Fatal(err)
	}
	return &apiClient{h: h, token: secret}
}

// call sends a request and decodes the JSON answer into a map (nil for
// an empty body).
func (c *apiClient) call(method, path, ctype string, body io.Reader) (int, map[string]any) {
	c.h.t.Helper()
	req, _ := http.NewRequest(method, c.h.ts.URL+path, body)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.h.t.Fatalf("%s %s: Content-Type %q: %s", method, path, ct, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.h.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, out
}

func (c *apiClient) json(method, path, body string) (int, map[string]any) {
	c.h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return c.call(method, path, "application/json", r)
}

// errCode returns the stable code of an API error body.
func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func wantAPI(t *testing.T, what string, code int, body map[string]any, wantCode int, wantErr string) {
	t.Helper()
	if code != wantCode || errCode(body) != wantErr {
		t.Errorf("%s: %d %q, want %d %q (%v)", what, code, errCode(body), wantCode, wantErr, body)
	}
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := &apiClient{h: h}
	code, body := c.json("GET", "/api/v1/lists", "")
	wantAPI(t, "no token", code, body, http.StatusUnauthorized, "unauthorized")
	for _, bad := range []string{"nope", store.APITokenPrefix + "forged", "' OR 1=1 --"} {
		c.token = bad
		code, body = c.json("GET", "/api/v1/lists", "")
		wantAPI(t, "bad token "+bad, code, body, http.StatusUnauthorized, "unauthorized")
	}
	ed := h.apiToken(store.RoleEditor)
	code, body = ed.json("GET", "/api/v1/lists", "")
	wantAPI(t, "editor token", code, body, http.StatusOK, "")
	h.st.RevokeAPIToken(context.Background(), "t-editor")
	code, body = ed.json("GET", "/api/v1/lists", "")
	wantAPI(t, "revoked token", code, body, http.StatusUnauthorized, "unauthorized")
	// A session cookie is no API credential, and the API needs no CSRF.
	a := h.user("admin@example.org", store.RoleAdmin)
	resp, raw := a.get("/api/v1/lists")
	wantStatus(t, resp, raw, http.StatusUnauthorized)
	// Unknown routes answer JSON too.
	adm := h.apiToken(store.RoleAdmin)
	code, body = adm.json("GET", "/api/v1/nothing", "")
	wantAPI(t, "unknown route", code, body, http.StatusNotFound, "not_found")
}

func TestAPILists(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiToken(store.RoleEditor)
	code, body := c.json("POST", "/api/v1/lists", `{"name": "Partenaires", "description": "<b>x</b>", "public": true}`)
	wantAPI(t, "create", code, body, http.StatusCreated, "")
	id, _ := body["uuid"].(string)
	if body["name"] != "Partenaires" || body["public"] != true || id == "" {
		t.Errorf("created %v", body)
	}
	code, body = c.json("POST", "/api/v1/lists", `{"name": "partenaires"}`)
	wantAPI(t, "duplicate", code, body, http.StatusConflict, "conflict")
	code, body = c.json("POST", "/api/v1/lists", `{"name": ""}`)
	wantAPI(t, "empty name", code, body, http.StatusUnprocessableEntity, "invalid")
	if e := body["error"].(map[string]any); e["field"] != "name" {
		t.Errorf("error field = %v", e["field"])
	}
	code, body = c.json("POST", "/api/v1/lists", `{"nom": "x"}`)
	wantAPI(t, "unknown field", code, body, http.StatusBadRequest, "bad_request")
	code, body = c.json("POST", "/api/v1/lists", `{"name": `)
	wantAPI(t, "bad JSON", code, body, http.StatusBadRequest, "bad_request")
	code, body = c.call("POST", "/api/v1/lists", "text/plain", strings.NewReader(`{"name":"x"}`))
	wantAPI(t, "wrong type", code, body, http.StatusUnsupportedMediaType, "bad_request")

	code, body = c.json("GET", "/api/v1/lists/"+id, "")
	wantAPI(t, "get by uuid", code, body, http.StatusOK, "")
	code, body = c.json("GET", "/api/v1/lists/Partenaires", "")
	wantAPI(t, "get by name", code, body, http.StatusOK, "")
	code, body = c.json("PATCH", "/api/v1/lists/"+id, `{"public": false}`)
	wantAPI(t, "patch", code, body, http.StatusOK, "")
	if body["public"] != false || body["name"] != "Partenaires" {
		t.Errorf("patched %v", body)
	}
	code, body = c.json("GET", "/api/v1/lists", "")
	if lists := body["lists"].([]any); code != 200 || len(lists) != 1 {
		t.Errorf("lists: %d %v", code, body)
	}
	code, body = c.json("DELETE", "/api/v1/lists/"+id, "")
	wantAPI(t, "delete", code, body, http.StatusNoContent, "")
	code, body = c.json("GET", "/api/v1/lists/"+id, "")
	wantAPI(t, "deleted", code, body, http.StatusNotFound, "not_found")
}

func TestAPISubscribers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ed := h.apiToken(store.RoleEditor)
	adm := h.apiToken(store.RoleAdmin)
	code, body := ed.json("POST", "/api/v1/subscribers", `{"email": " Jean.Martin@EXAMPLE.org ", "first_name": "<script>x</script>",
		"lists": ["Partenaires"], "attributes": {"ville": "Sète"}, "consent": {"text": "Formulaire du site", "ip": "192.0.2.1"}}`)
	wantAPI(t, "create", code, body, http.StatusCreated, "")
	id, _ := body["uuid"].(string)
	if body["email"] != "Jean.Martin@example.org" || body["status"] != "active" || body["first_name"] != "<script>x</script>" {
		t.Errorf("created %v", body)
	}
	if lists, _ := body["lists"].([]any); len(lists) != 1 || lists[0] != "Partenaires" {
		t.Errorf("lists %v", body["lists"])
	}
	for _, c := range []struct{ body, code string }{
		{`{"email": "jean.martin@example.org"}`, "conflict"},
		{`{"email": "not an address"}`, "invalid"},
		{`{}`, "invalid"},
		{`{"email": "x@example.org", "status": "unsubscribed"}`, "invalid"},
	} {
		code, body := ed.json("POST", "/api/v1/subscribers", c.body)
		if errCode(body) != c.code {
			t.Errorf("POST %s: %d %v, want %s", c.body, code, body, c.code)
		}
	}
	// Erased: suppressed, whatever the API says.
	h.subscriber("gone@example.org", store.Active)
	h.st.EraseSubscriber(context.Background(), "gone@example.org")
	code, body = ed.json("POST", "/api/v1/subscribers", `{"email": "gone@example.org"}`)
	wantAPI(t, "erased", code, body, http.StatusConflict, "suppressed")

	code, body = ed.json("GET", "/api/v1/subscribers/"+id, "")
	wantAPI(t, "get", code, body, http.StatusOK, "")
	code, body = ed.json("GET", "/api/v1/subscribers/jean.martin@example.org", "")
	wantAPI(t, "get by address", code, body, http.StatusOK, "")

	// Search and filters: SQL-looking input is text.
	for _, q := range []string{"' OR '1'='1", "%", "_", "x';DROP TABLE subscribers;--"} {
		code, body := ed.json("GET", "/api/v1/subscribers?q="+url.QueryEscape(q), "")
		if code != 200 || body["total"] != float64(0) {
			t.Errorf("q=%s: %d %v", q, code, body["total"])
		}
	}
	code, body = ed.json("GET", "/api/v1/subscribers?q=martin&status=active&list=Partenaires&limit=10", "")
	if code != 200 || body["total"] != float64(1) {
		t.Errorf("search: %d %v", code, body)
	}
	code, body = ed.json("GET", "/api/v1/subscribers?status=nope", "")
	wantAPI(t, "bad status", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = ed.json("GET", "/api/v1/subscribers?limit=100000", "")
	wantAPI(t, "bad limit", code, body, http.StatusUnprocessableEntity, "invalid")

	// PATCH: names, membership, unsubscribe; never lift a suppression.
	code, body = ed.json("PATCH", "/api/v1/subscribers/"+id, `{"first_name": "Jean", "membership": {"Partenaires": false, "Acheteurs": true}}`)
	wantAPI(t, "patch", code, body, http.StatusOK, "")
	if lists, _ := body["lists"].([]any); body["first_name"] != "Jean" || len(lists) != 1 || lists[0] != "Acheteurs" {
		t.Errorf("patched %v", body)
	}
	code, body = ed.json("PATCH", "/api/v1/subscribers/"+id, `{"status": "unsubscribed"}`)
	wantAPI(t, "unsubscribe", code, body, http.StatusOK, "")
	if body["status"] != "unsubscribed" {
		t.Errorf("status %v", body["status"])
	}
	code, body = ed.json("PATCH", "/api/v1/subscribers/"+id, `{"status": "active"}`)
	wantAPI(t, "lift suppression", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = ed.json("PATCH", "/api/v1/subscribers/"+id, `{"email": "other@example.org"}`)
	wantAPI(t, "change address", code, body, http.StatusUnprocessableEntity, "invalid")

	// Erasure: admin tokens only.
	code, body = ed.json("DELETE", "/api/v1/subscribers/"+id, "")
	wantAPI(t, "editor erase", code, body, http.StatusForbidden, "forbidden")
	code, body = adm.json("DELETE", "/api/v1/subscribers/"+id, "")
	wantAPI(t, "admin erase", code, body, http.StatusNoContent, "")
	code, body = adm.json("GET", "/api/v1/subscribers/"+id, "")
	wantAPI(t, "erased", code, body, http.StatusNotFound, "not_found")
}

func TestAPIImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.apiToken(store.RoleEditor)
	csv := "email,first_name\njean@example.org,Jean\nbad-address,X\njean@example.org,Again\n"
	code, body := c.call("POST", "/api/v1/subscribers/import?list=Partenaires&dry_run=1", "text/csv", strings.NewReader(csv))
	wantAPI(t, "dry run", code, body, http.StatusOK, "")
	if body["added"] != float64(1) || body["rejected"] != float64(2) || body["dry_run"] != true {
		t.Errorf("dry run report %v", body)
	}
	if n, _ := h.st.CountSubscribers(context.Background(), store.SubscriberFilter{}); n != 0 {
		t.Errorf("dry run added %d", n)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "contacts.csv")
	fw.Write([]byte(csv))
	mw.Close()
	code, body = c.call("POST", "/api/v1/subscribers/import?list=Partenaires", mw.FormDataContentType(), &buf)
	wantAPI(t, "multipart", code, body, http.StatusOK, "")
	rejects, _ := body["rejects"].([]any)
	if body["added"] != float64(1) || len(rejects) != 2 || body["file"] != "contacts.csv" {
		t.Errorf("report %v", body)
	}
	first, _ := rejects[0].(map[string]any)
	if first["line"] != float64(3) {
		t.Errorf("first reject %v, want line 3", first)
	}
	code, body = c.call("POST", "/api/v1/subscribers/import", "text/csv", strings.NewReader(csv))
	wantAPI(t, "no list", code, body, http.StatusUnprocessableEntity, "invalid")
	code, body = c.call("POST", "/api/v1/subscribers/import?list=X", "application/pdf", strings.NewReader("%PDF"))
	wantAPI(t, "wrong type", code, body, http.StatusUnsupportedMediaType, "bad_request")
	code, body = c.call("POST", "/api/v1/subscribers/import?list=X", "text/csv", strings.NewReader("name,city\nJean,Sète\n"))
	wantAPI(t, "no address column", code, body, http.StatusUnprocessableEntity, "invalid")
}
