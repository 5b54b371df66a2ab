// The app's own worker file: onestream runs here, once for every tab.
import { serve } from "onestream/worker";

serve();
