package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
)

// idTokenKey signs id_tokens (ES256). Clients of eCW read the fhirUser
// claim without verifying the signature, but a real signature and a real
// JWKS cost little and let a stricter client be tested too.
type idTokenKey struct {
	key *ecdsa.PrivateKey
	kid string
	pub []byte // uncompressed point 0x04||X||Y
}

type idTokenClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	FHIRUser string `json:"fhirUser"`
	Expires  int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	Nonce    string `json:"nonce,omitempty"`
}

func newIDTokenKey() (*idTokenKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	return &idTokenKey{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:8]), pub: pub}, nil
}

// sign returns the compact JWS header.payload.signature of claims.
func (k *idTokenKey) sign(claims idTokenClaims) string {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": k.kid})
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		// Signing with a valid P-256 key cannot fail; an unverifiable
		// token is still better than none for clients that only decode it.
		return input + "."
	}
	sig := make([]byte, 64) // JWS ES256 wants fixed-width r||s, not ASN.1
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig)
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	enc := base64.RawURLEncoding
	pub := s.idKey.pub
	writeJSON(w, http.StatusOK, "application/json", map[string][]jwk{"keys": {{
		Kty: "EC", Crv: "P-256",
		X: enc.EncodeToString(pub[1:33]), Y: enc.EncodeToString(pub[33:65]),
		Use: "sig", Alg: "ES256", Kid: s.idKey.kid,
	}}})
}
