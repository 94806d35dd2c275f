"""logsumexp whose signature's default dim is 0 instead of -1: right whenever dim is given."""
# loses: logsumexp
# caught by: logsumexp: a left-out dim is the last one (the signature's default, dim=-1, keepdim=False)
# told: keep the signature's defaults


def logsumexp(x, dim=0, keepdim=False):
    m = torch.amax(x, dim=dim, keepdim=True).detach()
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    out = m + torch.log(torch.sum(torch.exp(x - m), dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)
