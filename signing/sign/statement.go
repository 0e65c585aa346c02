package sign

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"atelier/signing/internal/strictjson"
)

// In-toto Statement and SLSA types.
const (
	StatementV01        = "https://in-toto.io/Statement/v0.1" // what cosign attest-blob writes
	StatementV1         = "https://in-toto.io/Statement/v1"
	SLSAProvenanceV1    = "https://slsa.dev/provenance/v1"
	BuildType           = "https://atelier.app/module-pack/v1"
	BuilderID           = "https://atelier.app/builder/atelier-cli"
	maxSubjects         = 64
	maxStatementPayload = 2 << 20
)

// Subject is an in-toto subject.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement (v0.1 or v1).
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// ResourceDescriptor is SLSA's reference to an input.
type ResourceDescriptor struct {
	URI    string            `json:"uri,omitempty"`
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// Provenance is the SLSA provenance v1 predicate Atelier writes: what was
// packed, from which source digest, by which builder version, when.
type Provenance struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   ModuleParameters     `json:"externalParameters"`
		ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version,omitempty"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string    `json:"invocationId,omitempty"`
			StartedOn    time.Time `json:"startedOn"`
			FinishedOn   time.Time `json:"finishedOn"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// ModuleParameters name the packed module in the provenance.
type ModuleParameters struct {
	Module       string `json:"module,omitempty"`
	Version      string `json:"version,omitempty"`
	SourceDigest string `json:"sourceDigest,omitempty"` // sha256 of the file list
}

// ProvenanceInput describes one packing for NewProvenance.
type ProvenanceInput struct {
	ArchiveName    string
	ArchiveDigest  [32]byte
	Module         string
	Version        string
	SourceDigest   string
	BuilderVersion string
	Started        time.Time
	Finished       time.Time
}

// NewStatement builds an in-toto v1 Statement with a SLSA provenance v1 predicate.
func NewStatement(in ProvenanceInput) ([]byte, error) {
	var p Provenance
	p.BuildDefinition.BuildType = BuildType
	p.BuildDefinition.ExternalParameters = ModuleParameters{Module: in.Module, Version: in.Version, SourceDigest: in.SourceDigest}
	p.BuildDefinition.ResolvedDependencies = []ResourceDescriptor{{Name: "source:" + in.Module, Digest: map[string]string{"sha256": in.SourceDigest}}}
	p.RunDetails.Builder.ID = BuilderID
	p.RunDetails.Builder.Version = map[string]string{"atelier": in.BuilderVersion}
	p.RunDetails.Metadata.StartedOn = in.Started.UTC().Truncate(time.Second)
	p.RunDetails.Metadata.FinishedOn = in.Finished.UTC().Truncate(time.Second)
	pred, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	st := Statement{
		Type:          StatementV1,
		Subject:       []Subject{{Name: in.ArchiveName, Digest: map[string]string{"sha256": hex.EncodeToString(in.ArchiveDigest[:])}}},
		PredicateType: SLSAProvenanceV1,
		Predicate:     pred,
	}
	return json.Marshal(st)
}

// Attest signs a provenance Statement for an archive as a DSSE envelope.
func Attest(priv *ecdsa.PrivateKey, in ProvenanceInput) (Envelope, error) {
	st, err := NewStatement(in)
	if err != nil {
		return Envelope{}, err
	}
	return SignEnvelope(priv, InTotoPayloadType, st)
}

// ParseStatement strictly decodes a Statement (v0.1 or v1) with a SLSA
// provenance v1 predicate and returns it with the provenance's module
// parameters when present (cosign-made predicates may carry other fields).
func ParseStatement(payload []byte, what string) (Statement, ModuleParameters, error) {
	var st Statement
	if err := strictjson.Decode(payload, maxStatementPayload, what, &st); err != nil {
		return Statement{}, ModuleParameters{}, err
	}
	if st.Type != StatementV1 && st.Type != StatementV01 {
		return Statement{}, ModuleParameters{}, fmt.Errorf("%s: in-toto Statement type %q is not supported (v0.1 and v1 are)", what, st.Type)
	}
	if st.PredicateType != SLSAProvenanceV1 {
		return Statement{}, ModuleParameters{}, fmt.Errorf("%s: predicate type %q, expected %s", what, st.PredicateType, SLSAProvenanceV1)
	}
	if len(st.Subject) == 0 || len(st.Subject) > maxSubjects {
		return Statement{}, ModuleParameters{}, fmt.Errorf("%s: Statement has %d subjects", what, len(st.Subject))
	}
	var loose struct {
		BuildDefinition struct {
			ExternalParameters json.RawMessage `json:"externalParameters"`
		} `json:"buildDefinition"`
	}
	var mp ModuleParameters
	if len(st.Predicate) > 0 && json.Unmarshal(st.Predicate, &loose) == nil && len(loose.BuildDefinition.ExternalParameters) > 0 {
		var tmp map[string]any
		if json.Unmarshal(loose.BuildDefinition.ExternalParameters, &tmp) == nil {
			s := func(k string) string { v, _ := tmp[k].(string); return v }
			mp = ModuleParameters{Module: s("module"), Version: s("version"), SourceDigest: s("sourceDigest")}
		}
	}
	return st, mp, nil
}

// CoversDigest reports whether a subject of st has the SHA-256 digest d.
// DSSE verification says nothing about the artifact: this is the check that
// ties the attestation to the archive.
func (st Statement) CoversDigest(d [32]byte) bool {
	want := hex.EncodeToString(d[:])
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest["sha256"], want) {
			return true
		}
	}
	return false
}

// DecodePayload base64-decodes an envelope's payload without verifying it
// (for display only).
func (e Envelope) DecodePayload() ([]byte, error) {
	return base64.StdEncoding.Strict().DecodeString(e.Payload)
}
