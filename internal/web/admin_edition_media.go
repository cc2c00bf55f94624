package web

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"bulletin/internal/edition"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

const (
	// maxUploadBytes bounds an uploaded image: a phone's photo is a few MB.
	maxUploadBytes = 15 << 20
	// mailImageWidth is twice the 600 px column: sharp on high-density
	// screens, no heavier than that.
	mailImageWidth = 1200
)

// uploadEditionMedia stores an image for the edition (multipart "file" and
// "alt") in its media folder, scaled down to mailImageWidth when wider, and
// answers {"src","width","height"} or {"error"}.
func (s *Server) uploadEditionMedia(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	pr := s.newPage(r, "", nil)
	fail := func(code int, key string, args ...any) {
		writeJSON(w, code, map[string]string{"error": pr.T(key, args...)})
	}
	se, err := s.store.EditionBySlug(r.Context(), r.PathValue("slug"))
	if errors.Is(err, store.ErrNotFound) {
		fail(http.StatusNotFound, "editor.media.no_edition")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(r.PostFormValue("alt")) == "" {
		fail(http.StatusUnprocessableEntity, "editor.media.alt_required")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusUnprocessableEntity, "editor.media.no_file")
		return
	}
	defer f.Close()
	if hdr.Size > maxUploadBytes {
		fail(http.StatusRequestEntityTooLarge, "editor.media.too_big", maxUploadBytes>>20)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUploadBytes+1))
	if err != nil || len(data) > maxUploadBytes {
		fail(http.StatusRequestEntityTooLarge, "editor.media.too_big", maxUploadBytes>>20)
		return
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg" && format != "gif") {
		fail(http.StatusUnprocessableEntity, "editor.media.bad_type")
		return
	}
	if cfg.Width > render.MaxImageSide || cfg.Height > render.MaxImageSide || int64(cfg.Width)*int64(cfg.Height) > render.MaxImagePixels {
		fail(http.StatusUnprocessableEntity, "editor.media.too_many_pixels", cfg.Width, cfg.Height, render.MaxImageSide, render.MaxImagePixels/1_000_000)
		return
	}
	width, height := cfg.Width, cfg.Height
	orientation := 1
	if format == "jpeg" {
		orientation = jpegOrientation(data)
	}
	if orientation >= 5 { // a phone held upright: shown turned a quarter
		width, height = height, width
	}
	// A GIF may be animated: scaling would keep its first frame only.
	if (width > mailImageWidth || orientation != 1) && format != "gif" {
		if data, width, height, err = scaleDown(data, format, orientation); err != nil {
			fail(http.StatusUnprocessableEntity, "editor.media.bad_type")
			return
		}
	}
	if se.Dir == "" {
		// An edition made in the console gets a folder under the data
		// folder, next to the database.
		dir, err := filepath.Abs(filepath.Join(filepath.Dir(s.cfg.Store.Path), "media", se.Slug))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		se.Dir = dir
		if _, err := s.store.SaveEdition(r.Context(), se); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := os.MkdirAll(se.Dir, 0o755); err != nil {
		s.fail(w, r, err)
		return
	}
	name := uniqueName(se.Dir, mediaName(hdr.Filename, format))
	if err := os.WriteFile(filepath.Join(se.Dir, name), data, 0o644); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"src": name, "width": width, "height": height})
}

// scaleDown turns a photo the way its EXIF orientation says (re-encoding
// drops the tag, and phones store most photos sideways) and resizes it to
// mailImageWidth wide at most with Catmull-Rom, the sharpest of x/image's
// scalers, encoding it again in its format.
func scaleDown(data []byte, format string, orientation int) ([]byte, int, int, error) {
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, err
	}
	b := src.Bounds()
	// Scale first, in the stored orientation, so that turning it handles
	// few pixels.
	w, h := b.Dx(), b.Dy()
	shown := w
	if orientation >= 5 {
		shown = h
	}
	if shown > mailImageWidth {
		w, h = max(1, w*mailImageWidth/shown), max(1, h*mailImageWidth/shown)
	}
	scaled := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, b, draw.Src, nil)
	img := orient(scaled, orientation)
	var out bytes.Buffer
	switch format {
	case "jpeg":
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 85})
	default:
		err = png.Encode(&out, img)
	}
	return out.Bytes(), img.Bounds().Dx(), img.Bounds().Dy(), err
}

// orient returns img turned and flipped as EXIF orientation o (1 to 8)
// says the camera held it.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.SetRGBA(dx, dy, img.RGBAAt(x, y))
		}
	}
	return dst
}

// jpegOrientation reads the EXIF orientation tag (0x0112) of a JPEG's APP1
// segment: 1 (as stored) when there is none.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data) && data[i] == 0xFF; {
		marker := data[i+1]
		if marker == 0xDA || marker == 0xD9 { // image data: no more metadata
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads the orientation from a TIFF header and its first
// directory.
func exifOrientation(tiff []byte) int {
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	count := int(order.Uint16(tiff[ifd:]))
	for k := 0; k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > len(tiff) {
			return 1
		}
		if order.Uint16(tiff[e:]) == 0x0112 {
			if o := int(order.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// mediaName makes a safe file name from the uploaded one, with the
// extension of its real format.
func mediaName(orig, format string) string {
	ext := map[string]string{"png": ".png", "jpeg": ".jpg", "gif": ".gif"}[format]
	stem := edition.Slugify(strings.TrimSuffix(path.Base(strings.ReplaceAll(orig, `\`, "/")), path.Ext(orig)))
	if stem == "" {
		stem = "image"
	}
	return stem + ext
}

// uniqueName returns name, or name-2, name-3… when a file of that name is
// already in dir, so that an upload never replaces an image another
// edition or campaign shows.
func uniqueName(dir, name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = stem + "-" + strconv.Itoa(i) + ext
	}
}

// editionFile serves an image of the edition's folder to staff, whether
// or not the saved source shows it yet: the editor shows an image as soon
// as it is uploaded, while the public /media/ route waits for the save.
func (s *Server) editionFile(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	se, ok := s.editionOf(w, r, sess)
	if !ok {
		return
	}
	file := r.PathValue("file")
	ctype := mediaTypes[strings.ToLower(path.Ext(file))]
	p, err := edition.CleanLocal(file)
	if se.Dir == "" || ctype == "" || err != nil || ctype == "image/svg+xml" {
		http.NotFound(w, r)
		return
	}
	serveFolderFile(w, r, se.Dir, p, http.Header{
		"Content-Type":            {ctype},
		"Content-Security-Policy": {"default-src 'none'; sandbox"},
	})
}

var _ = gif.Decode // registers GIF for image.DecodeConfig
