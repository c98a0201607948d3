// Package s3 is the objects.Store on Amazon S3 (gofakes3 locally), where participant video lives.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"

	"lookit.dev/platform/shared/objects"
)

// Options configures a client. Endpoint is empty for AWS; stand-ins need path-style addressing.
type Options struct {
	Region    string
	Endpoint  string
	AccessKey string // empty: the default credential chain
	SecretKey string
}

// NewClient returns an S3 client for o.
func NewClient(ctx context.Context, o Options) (*awss3.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.Region)}
	if o.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: config: %w", err)
	}
	return awss3.NewFromConfig(cfg, func(so *awss3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	}), nil
}

// Bucket stores objects in one S3 bucket.
type Bucket struct {
	Client *awss3.Client
	Name   string
}

var _ objects.Store = (*Bucket)(nil)

func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, contentType string) error {
	// PutObject needs a seekable body to sign it; video uploads of any size go through signed PUT
	// URLs or the recorder's multipart upload, so Put is for small objects.
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	if len(data) > 64<<20 {
		return fmt.Errorf("s3: put %s: object over 64 MiB; use a signed PUT URL", key)
	}
	_, err = b.Client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &b.Name, Key: &key, Body: bytes.NewReader(data), ContentType: &contentType,
	})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &b.Name, Key: &key})
	if notFound(err) {
		return nil, objects.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("s3: get %s: %w", key, err)
	}
	return out.Body, nil
}

func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil && !notFound(err) {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) SignedURL(ctx context.Context, key, method string, expiry time.Duration) (string, error) {
	p := awss3.NewPresignClient(b.Client)
	var (
		req *v4.PresignedHTTPRequest
		err error
	)
	switch method {
	case http.MethodGet:
		req, err = p.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &b.Name, Key: &key}, awss3.WithPresignExpires(expiry))
	case http.MethodPut:
		req, err = p.PresignPutObject(ctx, &awss3.PutObjectInput{Bucket: &b.Name, Key: &key}, awss3.WithPresignExpires(expiry))
	default:
		return "", fmt.Errorf("s3: signed URL method %s not allowed", method)
	}
	if err != nil {
		return "", fmt.Errorf("s3: sign %s: %w", key, err)
	}
	return req.URL, nil
}

// EnsureBucket creates the bucket if it does not exist (local stand-ins only).
func EnsureBucket(ctx context.Context, c *awss3.Client, name string) error {
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &name}); err == nil {
		return nil
	}
	_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &name})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("s3: create bucket %s: %w", name, err)
	}
	return nil
}

func notFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
