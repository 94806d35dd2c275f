"""log_softmax whose signature's default dim is 0 instead of -1: right whenever dim is given."""
# loses: log_softmax
# caught by: log_softmax: a left-out dim is the last one (the signature's default, dim=-1)
# told: keep the signature's defaults


def log_softmax(x, dim=0):
    shifted = x - torch.amax(x, dim=dim, keepdim=True).detach()
    return shifted - torch.log(torch.sum(torch.exp(shifted), dim=dim, keepdim=True))
