// Package instance holds what one function instance builds once and reuses across requests: the
// configuration, the logger and the clients. Clients are built on first use, not at start, so a
// function pays only for the clients it uses and cold starts stay cheap.
package instance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"sync"

	cb "cloud.google.com/go/cloudbuild/apiv1/v2"
	ps "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/storage"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/builds"
	"lookit.dev/platform/shared/cloudbuild"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/events"
	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/github"
	"lookit.dev/platform/shared/logging"
	"lookit.dev/platform/shared/mail"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/pubsub"
	"lookit.dev/platform/shared/s3"
	"lookit.dev/platform/shared/sendgrid"
	"lookit.dev/platform/shared/videos"
)

// Instance is the per-instance set of dependencies. Each provider builds its client on first
// successful call and returns the same one afterwards; a failed build is retried on the next
// call, so a dependency that was briefly down does not poison the instance.
type Instance struct {
	Config *config.Config
	Log    *slog.Logger

	DB          Provider[*pgxpool.Pool]
	Publisher   Provider[events.Publisher]
	Mail        Provider[mail.Sender]
	Builder     Provider[builds.Builder]
	Experiments Provider[objects.Store]
	Private     Provider[objects.Store]
	Videos      Provider[videos.Buckets]
}

// Provider returns a dependency, building it on first use.
type Provider[T any] func(ctx context.Context) (T, error)

// Lazy wraps build so it runs until it first succeeds; later calls return that value.
func Lazy[T any](build func(ctx context.Context) (T, error)) Provider[T] {
	var (
		mu   sync.Mutex
		done bool
		v    T
	)
	return func(ctx context.Context) (T, error) {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return v, nil
		}
		nv, err := build(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, done = nv, true
		return v, nil
	}
}

// Value returns a Provider of a value built elsewhere (the dev server's stand-ins, tests).
func Value[T any](v T) Provider[T] {
	return func(context.Context) (T, error) { return v, nil }
}

// New returns an Instance for cfg whose providers build the production clients. The service
// name labels log lines and Error Reporting groups.
func New(cfg *config.Config, service string) *Instance {
	log := logging.New(os.Stdout, cfg.LogLevel, cfg.Project, service)
	in := &Instance{Config: cfg, Log: log}
	in.DB = Lazy(func(ctx context.Context) (*pgxpool.Pool, error) {
		if err := cfg.Require(config.NeedDatabase); err != nil {
			return nil, err
		}
		return postgres.Open(context.WithoutCancel(ctx), cfg)
	})
	pubsubClient := Lazy(func(ctx context.Context) (*ps.Client, error) {
		if err := cfg.Require(config.NeedPubSub); err != nil {
			return nil, err
		}
		// Instance-lifetime client: not tied to the first request's context.
		return ps.NewClient(context.WithoutCancel(ctx), cfg.Project)
	})
	in.Publisher = Lazy(func(ctx context.Context) (events.Publisher, error) {
		c, err := pubsubClient(ctx)
		if err != nil {
			return nil, fmt.Errorf("pubsub client: %w", err)
		}
		return pubsub.NewPublisher(c), nil
	})
	in.Mail = Lazy(func(ctx context.Context) (mail.Sender, error) {
		if err := cfg.Require(config.NeedMail); err != nil {
			return nil, err
		}
		return &sendgrid.Client{APIKey: cfg.SendGridAPIKey, Host: cfg.SendGridHost}, nil
	})
	in.Builder = Lazy(func(ctx context.Context) (builds.Builder, error) {
		if err := cfg.Require(config.NeedBuilds); err != nil {
			return nil, err
		}
		c, err := cb.NewClient(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("cloud build client: %w", err)
		}
		return &cloudbuild.Builder{Client: c, Project: cfg.Project, Region: cfg.BuildRegion,
			Image: cfg.BuilderImage, ServiceAccount: cfg.BuildServiceAccount}, nil
	})
	storageClient := Lazy(func(ctx context.Context) (*storage.Client, error) {
		if err := cfg.Require(config.NeedStorage); err != nil {
			return nil, err
		}
		return storage.NewClient(context.WithoutCancel(ctx))
	})
	bucket := func(name string) Provider[objects.Store] {
		return Lazy(func(ctx context.Context) (objects.Store, error) {
			c, err := storageClient(ctx)
			if err != nil {
				return nil, fmt.Errorf("storage client: %w", err)
			}
			b := &gcs.Bucket{Client: c, Name: name}
			if cfg.StorageEmulator != "" {
				if err := localSigner(b); err != nil {
					return nil, err
				}
			}
			return b, nil
		})
	}
	in.Experiments = bucket(cfg.ExperimentsBucket)
	in.Private = bucket(cfg.PrivateBucket)
	in.Videos = Lazy(func(ctx context.Context) (videos.Buckets, error) {
		if err := cfg.Require(config.NeedS3); err != nil {
			return videos.Buckets{}, err
		}
		c, err := s3.NewClient(context.WithoutCancel(ctx), s3.Options{Region: cfg.S3Region, Endpoint: cfg.S3Endpoint})
		if err != nil {
			return videos.Buckets{}, err
		}
		return videos.Buckets{Pipe: &s3.Bucket{Client: c, Name: cfg.S3PipeBucket},
			Recorder: &s3.Bucket{Client: c, Name: cfg.S3VideoBucket}, JSPsych: &s3.Bucket{Client: c, Name: cfg.S3JSPsychBucket}}, nil
	})
	return in
}

// localSigner gives a bucket on the storage emulator a throwaway signing key: the emulator does
// not check signatures, and there is no service account to sign with.
func localSigner(b *gcs.Bucket) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("local signing key: %w", err)
	}
	b.AccessID = "local-signer@lookit-local.iam.gserviceaccount.com"
	b.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	b.Insecure = true
	return nil
}

// RefResolver resolves study runner branches to commits on GitHub.
func (in *Instance) RefResolver() postgres.RefResolver {
	return &github.Resolver{BaseURL: in.Config.GitHubAPIURL, Token: in.Config.GitHubToken}
}

// FromEnv loads the configuration from the process environment. A bad configuration cannot
// serve any request: the instance logs the variables at fault and exits non-zero, so the
// revision fails visibly instead of answering with errors.
func FromEnv(service string) *Instance {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		logging.New(os.Stderr, nil, "", service).Log(context.Background(), logging.LevelCritical, err.Error())
		os.Exit(1)
	}
	return New(cfg, service)
}

// Receiver returns the CloudEvent receiver for a Pub/Sub-triggered function named name.
func (in *Instance) Receiver(name string, h events.Handler) *events.Receiver {
	return &events.Receiver{Name: name, Log: in.Log, Rejecter: postgres.Rejects{DB: in.DB}, Handle: h}
}
