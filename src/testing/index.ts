export { receiveFromLayer, receiveNothingFromLayer, type TimeoutOptions } from './layer-receive.js'
