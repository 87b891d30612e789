"""The local AWS (dev and test tooling, not in the wheel): moto's server as the AWS endpoint, our patches of
it, and the seed (a golden AMI and a sample evidence snapshot). README: "What ships, and what is dev
tooling"."""
