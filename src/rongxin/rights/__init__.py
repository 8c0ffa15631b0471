"""Rights of the information subject (G3, G4, S3): self-query, self-reported information under a
credit commitment, objections and credit repair."""
