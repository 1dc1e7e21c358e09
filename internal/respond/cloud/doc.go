// Package cloud holds the containment actions of internal/respond that
// change a cloud estate through the providers' own SDKs: AWS (EC2, S3,
// IAM) and Alibaba Cloud (ECS, RAM).
package cloud
