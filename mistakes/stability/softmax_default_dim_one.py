"""stable_softmax whose signature's default dim is 1 (the classes of an (N, C) batch, as
nn.Softmax(dim=1)) instead of -1: right whenever dim is given."""
# loses: stable_softmax
# caught by: stable_softmax: a left-out dim is the last one (the signature's default, dim=-1)
# told: keep the signature's defaults


def stable_softmax(x, dim=1):
    e = torch.exp(x - torch.amax(x, dim=dim, keepdim=True).detach())
    return e / torch.sum(e, dim=dim, keepdim=True)
