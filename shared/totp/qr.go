package totp

import (
	"encoding/base64"
	"fmt"

	"rsc.io/qr"
)

// QRCode returns the key URI as a QR code in a data: URI (PNG), ready for an img element, so the
// SPA shows it without sending the secret to any other service.
func QRCode(uri string) (string, error) {
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return "", fmt.Errorf("totp: QR code: %w", err)
	}
	c.Scale = 6
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG()), nil
}
