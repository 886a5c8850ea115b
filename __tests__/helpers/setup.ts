import { Testing } from "cdktf";

// Brings cdktf's matchers (toHaveResource, toHaveResourceWithProperties, ...) into expect().
Testing.setupJest();
