"""One module per measured quantity: time, memory (CPU and CUDA), energy; carbon comes from energy."""
