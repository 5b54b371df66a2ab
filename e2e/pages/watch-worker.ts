// The SharedWorker of the e2e page with ?protocol=watch: onestream over watchdemo.v1.
import { serve } from "onestream/worker";
import { watchAdapter } from "../foreign/watch-adapter";

serve({ adapter: watchAdapter });
