"""`--plots`: the student's functions drawn beside the model's."""
