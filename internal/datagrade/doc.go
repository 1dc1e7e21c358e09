// Package datagrade discovers sensitive data in data stores and grades it
// under GB/T 43697-2024 (数据安全技术 数据分类分级规则): 核心数据 (core),
// 重要数据 (important) or 一般数据 (general, sub-levels 1–4).
package datagrade
