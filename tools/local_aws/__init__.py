"""Local mode: moto's server as the AWS endpoint, seeded with a golden AMI and a sample evidence snapshot."""
