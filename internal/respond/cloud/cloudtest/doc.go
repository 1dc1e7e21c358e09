// Package cloudtest gives tests wire-compatible doubles of the cloud APIs
// the actions of internal/respond/cloud call: an httptest server speaking
// the AWS EC2 and IAM query protocol and S3 REST XML ([AWS]), and one
// speaking the Alibaba Cloud RPC shape with ACS3-HMAC-SHA256 signatures
// ([Alibaba]). The real SDK clients talk to them through an endpoint
// override, so a test exercises request building, signing, paging and
// error decoding as they happen in production.
//
// Each double answers an operation from a queue of canned replies ([AWS.On],
// [Alibaba.On]) and records every call's parameters, sorted and unescaped
// (Call, Calls, Ops); a call with no reply left fails the test. They listen
// on loopback only and are closed when the test ends.
//
// The doubles expect the static test credentials [AWSAccessKey] /
// [AWSSecretKey] and [AliKeyID] / [AliSecret]: pass [AWS.Config] or
// [Alibaba.Credential] to the clients, or set them in the environment for
// the providers' standard credential chains (AWS_ACCESS_KEY_ID …,
// ALIBABA_CLOUD_ACCESS_KEY_ID …) when the code under test builds its own
// clients. Only tests use this package.
package cloudtest
