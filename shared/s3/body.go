package s3

import (
	"bytes"
	"io"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type v4Request = v4.PresignedHTTPRequest

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
