package web

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/store"
)

// Opens and clicks, for the campaigns that chose to count them (see
// package links). Both endpoints are public: the signed token is the
// credential, and counting is all a GET does.

// pixel is a transparent 1×1 GIF.
var pixel = []byte{0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
	0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
	0x01, 0x44, 0x00, 0x3b}

// trackOpen answers the pixel of a message, and counts the open when its
// campaign tracks opens. The image is the same whatever the token, so that
// a mail client shows nothing odd.
func (s *Server) trackOpen(w http.ResponseWriter, r *http.Request) {
	if d, err := s.links.ParseOpenToken(r.PathValue("file")); err == nil {
		s.recordTracking(r.Context(), d, store.TrackOpen, "")
	}
	w.Header().Set("Cache-Control", "no-store, private") // each display asks again
	w.Header().Set("Content-Type", "image/gif")
	w.Write(pixel)
}

// trackClick sends the reader on to the link the token signs, and counts
// the click when its campaign tracks clicks. A token that does not sign
// this very link for a delivery gets an error page, never a redirect.
func (s *Server) trackClick(w http.ResponseWriter, r *http.Request) {
	link := r.URL.Query().Get("u")
	d, err := s.links.ParseClickToken(r.PathValue("token"), link)
	if err != nil {
		s.publicError(w, r, http.StatusNotFound, "error.bad_link")
		return
	}
	s.recordTracking(r.Context(), d, store.TrackClick, link)
	noStore(w)
	// The page the reader goes to need not see the token.
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, link, http.StatusFound)
}

// recordTracking counts a hit; a failure is logged, and the reader still
// gets the image or the page.
func (s *Server) recordTracking(ctx context.Context, d uuid.UUID, kind store.TrackingKind, link string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.store.RecordTracking(ctx, d, kind, link, s.now()); err != nil {
		s.log.Error("web: tracking", "kind", kind, "err", err)
	}
}
